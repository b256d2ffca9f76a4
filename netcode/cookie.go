package netcode

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/netip"
	"time"
)

const (
	macSize = 16
	// cookieBucket is the width of a cookie's time bucket; a cookie is
	// accepted in its own bucket and the next, so it lives 5 to 10 seconds.
	cookieBucket = 5 * time.Second
	cookieKeyLen = 32
)

// cookieJar mints and checks stateless challenge cookies: a truncated
// HMAC-SHA256 over the client's address, port, nonce and a coarse time bucket,
// keyed with a secret the server draws at start. The server keeps no state for
// a cookie it hands out; a response proves the client receives at its address.
type cookieJar struct {
	mac hash.Hash
	in  [16 + 2 + 8 + 4]byte
	sum [sha256.Size]byte
}

func newCookieJar(key []byte) (*cookieJar, error) {
	if key == nil {
		key = make([]byte, cookieKeyLen)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	return &cookieJar{mac: hmac.New(sha256.New, key)}, nil
}

func bucketOf(now time.Time) uint32 {
	return uint32(now.UnixNano() / int64(cookieBucket))
}

// mint writes the cookie MAC for (addr, nonce, bucket) into dst[:macSize].
func (j *cookieJar) mint(dst []byte, addr netip.AddrPort, nonce uint64, bucket uint32) {
	ip := addr.Addr().As16()
	copy(j.in[:16], ip[:])
	binary.LittleEndian.PutUint16(j.in[16:], addr.Port())
	binary.LittleEndian.PutUint64(j.in[18:], nonce)
	binary.LittleEndian.PutUint32(j.in[26:], bucket)
	j.mac.Reset()
	j.mac.Write(j.in[:])
	s := j.mac.Sum(j.sum[:0])
	copy(dst[:macSize], s)
}

// check reports whether mac is the cookie for (addr, nonce, bucket) and the
// bucket is the current one or the one before.
func (j *cookieJar) check(mac []byte, addr netip.AddrPort, nonce uint64, bucket uint32, now time.Time) bool {
	cur := bucketOf(now)
	if bucket != cur && bucket+1 != cur {
		return false
	}
	var want [macSize]byte
	j.mint(want[:], addr, nonce, bucket)
	return hmac.Equal(want[:], mac[:macSize])
}
