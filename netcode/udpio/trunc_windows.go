package udpio

import "golang.org/x/sys/windows"

// msgTrunc is the WSARecvMsg flag for a datagram longer than the buffer.
const msgTrunc = windows.MSG_TRUNC
