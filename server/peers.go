package server

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/server/mesh"
	"github.com/flotilla/flotilla/sim"
)

// The room as one member of a mesh (Config.Mesh): every member steps the
// same world; each sends every peer, for every frame, one batch of its own
// clients' actions (and its own joins and leaves) stamped for that frame,
// and runs a frame only when every peer's batch for it is in
// (server/mesh.Lockstep). A member's clients' actions carry its id as
// their origin; it answers only its own clients. STANDARD.md, section 6.

// PeerLink is a session with another member of the room's mesh, as the
// room sees it: a transport authenticated it as a peer, never as a client.
// The room calls its methods on its own goroutine only.
type PeerLink interface {
	// Addr is the peer's address: a member's own (its clients' and peers'
	// address), since members dial from the socket they listen on.
	Addr() netip.AddrPort
	// SendReliable queues msg on the session's reliable, ordered channel;
	// the transport copies it. An error means the session is over or
	// cannot take msg: the room closes it.
	SendReliable(msg []byte) error
	// Close ends the session with reason; the transport reports no more
	// events for it.
	Close(reason Reason)
}

// PeerEvents is the room as a transport of peer sessions sees it, under
// Events' rules (the room's goroutine, inside the transport's Poll; byte
// slices valid during the call). The room's Events value implements it.
type PeerEvents interface {
	PeerArrive(l PeerLink)
	PeerMessage(l PeerLink, msg []byte)
	PeerLeave(l PeerLink)
}

// PeerDialer is a transport that opens peer sessions (UDP): a member dials
// the members with higher ids than its own, and accepts the others' dials,
// so each pair has one session.
type PeerDialer interface {
	DialPeer(addr netip.AddrPort) error
}

// MeshConfig makes a room one member of a mesh.
type MeshConfig struct {
	// Self is this member's id; Members the whole membership, Self
	// included (the same list on every member: their Hellos compare its
	// hash).
	Self    uint16
	Members []mesh.Member
	// MaxChunk bounds a batch chunk in bytes (default 4096): a crowded
	// frame's batch goes in several.
	MaxChunk int
	// RedirectMargin: a client that connects while this member serves at
	// least this many more clients than its least loaded peer is pointed
	// there (protocol.Redirect) instead of welcomed. Default 8; negative:
	// never. Loads travel in the batches four times a second (CmdLoad).
	RedirectMargin int
}

// DefaultRedirectMargin is MeshConfig.RedirectMargin's default.
const DefaultRedirectMargin = 8

// DefaultMaxChunk is MeshConfig.MaxChunk's default; maxChunk its bound,
// netcode's default limit on a reliable message.
const (
	DefaultMaxChunk = 4096
	maxChunk        = 16 << 10
)

func (m *MeshConfig) validate() error {
	if m.MaxChunk < protocol.BatchHeadSize+protocol.MaxBatchActionSize || m.MaxChunk > maxChunk {
		return fmt.Errorf("mesh chunk of %d bytes outside %d..%d (netcode's default message limit)", m.MaxChunk, protocol.BatchHeadSize+protocol.MaxBatchActionSize, maxChunk)
	}
	found := false
	for _, p := range m.Members {
		found = found || p.ID == m.Self
	}
	if !found {
		return fmt.Errorf("mesh member %d is not in the membership %s", m.Self, mesh.FormatMembers(m.Members))
	}
	return nil
}

// meshState is the room's side of the mesh.
type meshState struct {
	cfg    MeshConfig
	lock   *mesh.Lockstep
	hash   uint64 // of the membership
	peers  map[uint16]*peer
	byLink map[PeerLink]*peer
	// formed: every peer said Hello once; the room seals and runs frames
	// from then on.
	formed bool
	// sealed is the last frame whose local batch went out: the room's own
	// actions stamp later frames.
	sealed uint32
	// sent keeps the encoded chunks of the last Span sealed frames, so a
	// peer whose session came back gets what it missed.
	sent [][][]byte // by frame % span: the frame's chunks
	// Scratch.
	in     protocol.Batch
	acts   []sim.Action
	out    []protocol.BatchAction
	ends   []int
	mism   []mesh.Mismatch
	block  []uint16
	cmds   []protocol.Command
	frames []uint32
	// A graceful leave (LeaveMesh): asked from any goroutine; leaveAt is
	// the frame whose batch says so (0: not yet sealed), done closed once
	// the room ran it.
	leaveAsked atomic.Bool
	leaveAt    uint32
	leaveDone  chan struct{}
	// redirecting counts the sessions pointed to a peer that have not
	// left yet (they are unproven here, and not this member's load).
	redirecting int
	reported    int // the load in this member's last CmdLoad
	// pongs are the answers owed to peers' pings, at most one per peer,
	// carried by the next batches.
	pongs []protocol.Command
	// world is the game's hash of worldFrame (worldHash).
	world      uint64
	worldFrame uint32
	worldOK    bool
	// Counted.
	mismatches, stalledTicks, redirects uint64
	duplicates                          uint64 // resent chunks held already
	stats                               []mesh.PeerStats
	loads                               []peerLoad // scratch of redirectTarget
	pubMu                               sync.Mutex
	pub                                 MeshStats // published by publishMesh
	// pubRedirect is what BrowserRedirect decides by, published each tick.
	pubRedirect struct {
		on    bool // formed, not leaving, redirects allowed
		own   int
		peers []peerLoad // peers with an HTTP address
		sent  uint64     // browsers redirected, all told
	}
}

// peer is one other member.
type peer struct {
	member mesh.Member
	link   PeerLink // nil while no session is up
	hello  bool     // its Hello came on this session
	left   bool     // it left the mesh (CmdLeave): not dialed again
	// load is the clients it said it serves (CmdLoad), plus those pointed
	// to it since; -1 until it says.
	load int
	// last is its last frame once it leaves (CmdLeave); ran is the last
	// frame it said it ran (its batches' hash frame).
	last, ran           uint32
	next                uint32 // the first frame it has not run, as its Hello said
	sentBytes, gotBytes uint64
	// rtt is the smoothed round trip of our pings to it (CmdPong), 0
	// until the first.
	rtt time.Duration
}

// newMesh sets up the room's side of the mesh: the lockstep starts at the
// room's next frame.
func newMesh(cfg MeshConfig, span int) (*meshState, error) {
	lock, err := mesh.New(cfg.Self, mesh.IDs(cfg.Members), 1, span)
	if err != nil {
		return nil, err
	}
	m := &meshState{cfg: cfg, lock: lock, hash: mesh.MembershipHash(cfg.Members),
		peers: map[uint16]*peer{}, byLink: map[PeerLink]*peer{}, sent: make([][][]byte, span), leaveDone: make(chan struct{})}
	for _, p := range cfg.Members {
		if p.ID != cfg.Self {
			m.peers[p.ID] = &peer{member: p, load: -1}
		}
	}
	m.formed = len(m.peers) == 0 // a mesh of one runs alone
	return m, nil
}

// hello is this member's Hello as of now.
func (r *Room) hello() []byte {
	m := r.mesh
	h := protocol.Hello{Version: protocol.MeshVersion, Member: m.cfg.Self, Members: uint16(len(m.cfg.Members)),
		Membership: m.hash, Schema: r.schema.Hash(), InputDelay: uint8(r.cfg.InputDelay), Frame: r.frame, World: r.game.Hash()}
	return protocol.AppendHello(nil, &h)
}

// PeerArrive: a peer session is up; the room says Hello and waits for the
// peer's.
func (e *events) PeerArrive(l PeerLink) {
	r := (*Room)(e)
	if r.mesh == nil {
		l.Close(ReasonProtocol)
		return
	}
	if err := l.SendReliable(r.hello()); err != nil {
		r.log.Warn("mesh: hello not sent", "peer", l.Addr(), "err", err)
		return
	}
	r.mesh.byLink[l] = nil // known link, member not yet named
}

// PeerLeave: a peer session ended. The lockstep waits for the member's
// batches until a session with it is back.
func (e *events) PeerLeave(l PeerLink) {
	r := (*Room)(e)
	if r.mesh == nil {
		return
	}
	if p := r.mesh.byLink[l]; p != nil {
		p.link, p.hello = nil, false
		r.peerGone(p)
		if p.left {
			r.log.Info("mesh: a member that left closed its session", "member", p.member.ID)
		} else {
			r.log.Error("mesh: peer session ended; frames wait for its batches", "member", p.member.ID, "addr", p.member.Addr, "frame", r.frame)
		}
	}
	delete(r.mesh.byLink, l)
}

// PeerMessage: a Hello or a batch chunk from a peer. Anything else, or a
// breach of the lockstep, ends the session.
func (e *events) PeerMessage(l PeerLink, msg []byte) {
	r := (*Room)(e)
	m := r.mesh
	if m == nil {
		return
	}
	p, known := m.byLink[l]
	if !known {
		return // a session the room closed
	}
	t, _ := protocol.Type(msg)
	switch {
	case t == protocol.MsgHello && p == nil:
		r.peerHello(l, msg)
	case t == protocol.MsgBatch && p != nil:
		p.gotBytes += uint64(len(msg))
		if err := r.peerBatch(p, msg); err != nil {
			r.log.Error("mesh: peer broke the protocol; session ended", "member", p.member.ID, "err", err)
			r.dropPeer(p, ReasonProtocol)
		}
	default:
		r.log.Error("mesh: unexpected peer message; session ended", "addr", l.Addr(), "type", t, "hello", p != nil)
		if p != nil {
			r.dropPeer(p, ReasonProtocol) // its half batches go too
			return
		}
		delete(m.byLink, l)
		l.Close(ReasonProtocol)
	}
}

// peerHello checks a peer's Hello against this member's configuration and
// world, and names the session's member.
func (r *Room) peerHello(l PeerLink, msg []byte) {
	m := r.mesh
	var h protocol.Hello
	err := protocol.ParseHello(msg, &h)
	p := m.peers[h.Member]
	switch {
	case err != nil:
	case h.Version != protocol.MeshVersion:
		err = fmt.Errorf("mesh version %d, ours %d", h.Version, protocol.MeshVersion)
	case p == nil:
		err = fmt.Errorf("member %d is not a peer in %s", h.Member, mesh.FormatMembers(m.cfg.Members))
	case p.member.Addr != l.Addr():
		err = fmt.Errorf("member %d speaks from %v, not its address %v", h.Member, l.Addr(), p.member.Addr)
	case p.link != nil:
		err = fmt.Errorf("member %d already has a session", h.Member)
	case p.left:
		err = fmt.Errorf("member %d left the mesh", h.Member)
	case h.Membership != m.hash || int(h.Members) != len(m.cfg.Members):
		err = fmt.Errorf("member %d has another membership", h.Member)
	case h.Schema != r.schema.Hash():
		err = fmt.Errorf("member %d has another game schema", h.Member)
	case int(h.InputDelay) != r.cfg.InputDelay:
		err = fmt.Errorf("member %d has input delay %d, ours %d", h.Member, h.InputDelay, r.cfg.InputDelay)
	case !m.formed && (h.Frame != 0 || r.frame != 0 || h.World != r.game.Hash()):
		err = fmt.Errorf("member %d starts from frame %d (world %x), ours %d (world %x)", h.Member, h.Frame, h.World, r.frame, r.game.Hash())
	case m.formed && int64(m.sealed)-int64(h.Frame) > int64(m.lock.Span())-1:
		err = fmt.Errorf("member %d is at frame %d, too far behind our batches (sealed through %d) to catch up", h.Member, h.Frame, m.sealed)
	}
	if err != nil {
		r.log.Error("mesh: peer refused", "addr", l.Addr(), "err", err)
		delete(m.byLink, l)
		l.Close(ReasonProtocol)
		return
	}
	p.link, p.hello, p.next = l, true, h.Frame+1
	m.byLink[l] = p
	r.log.Info("mesh: peer joined", "member", p.member.ID, "addr", p.member.Addr, "frame", h.Frame)
	if m.formed {
		// A session that came back: resend what it missed.
		for f := p.next; int32(f-m.sealed) <= 0; f++ {
			for _, c := range m.sent[f%uint32(len(m.sent))] {
				r.sendPeer(p, c)
			}
		}
		return
	}
	for _, q := range m.peers {
		if !q.hello {
			return
		}
	}
	m.formed = true
	r.log.Info("mesh: formed", "members", len(m.cfg.Members), "self", m.cfg.Self)
}

// peerBatch takes one chunk of a peer's batch: its actions join the frame's
// (accepted whole), and its hash is compared.
func (r *Room) peerBatch(p *peer, msg []byte) error {
	m := r.mesh
	b := &m.in
	if err := protocol.ParseBatch(msg, b); err != nil {
		return err
	}
	if _, err := m.lock.Chunk(p.member.ID, b.Frame, b.Chunk, b.Chunks); err != nil {
		if errors.Is(err, mesh.ErrDuplicate) {
			m.duplicates++ // resent after its session came back
			return nil
		}
		return err
	}
	acts := m.acts[:0]
	for _, a := range b.Actions {
		acts = append(acts, sim.Action{Frame: b.Frame, Origin: p.member.ID, Client: a.Client, Seq: a.Seq, Kind: a.Kind, Args: a.Args})
	}
	m.acts = acts
	if !r.queue.pushBatch(b.Frame, acts) {
		return fmt.Errorf("batch for frame %d outside the action queue", b.Frame)
	}
	if b.HashFrame != 0 {
		p.ran = max(p.ran, b.HashFrame)
		m.mism = m.lock.Hash(p.member.ID, b.HashFrame, b.Hash, m.mism[:0])
		r.alarm(m.mism)
	}
	for _, c := range b.Commands {
		if c.Kind == protocol.CmdLeave {
			if err := m.lock.Leave(p.member.ID, b.Frame); err != nil {
				return err
			}
			p.left, p.last = true, b.Frame
			r.log.Info("mesh: member leaves", "member", p.member.ID, "after frame", b.Frame)
		}
		switch {
		case c.Kind == protocol.CmdLoad:
			p.load = int(c.Client)
		case c.Kind == protocol.CmdPing && c.Member == p.member.ID:
			m.owePong(c)
		case c.Kind == protocol.CmdPong && c.Member == m.cfg.Self:
			p.sampleRTT(time.Duration(pingStamp(r.now)-c.Client) * time.Millisecond)
		}
	}
	return nil
}

// pingStamp is the stamp a ping carries: the clock in milliseconds, modulo
// 2^32 (the difference of two is right across a wrap).
func pingStamp(now time.Time) uint32 { return uint32(now.UnixMilli()) }

// owePong queues the answer to a peer's ping, replacing an older one from
// the same peer, so the queue holds one per peer at most.
func (m *meshState) owePong(ping protocol.Command) {
	pong := protocol.Command{Kind: protocol.CmdPong, Member: ping.Member, Client: ping.Client}
	for i := range m.pongs {
		if m.pongs[i].Member == ping.Member {
			m.pongs[i] = pong
			return
		}
	}
	m.pongs = append(m.pongs, pong)
}

// sampleRTT folds one round trip into the peer's smoothed figure (an eighth
// of each new sample, as TCP's SRTT), ignoring what cannot be one.
func (p *peer) sampleRTT(d time.Duration) {
	if d < 0 || d > time.Minute {
		return
	}
	if p.rtt == 0 {
		p.rtt = d
		return
	}
	p.rtt += (d - p.rtt) / 8
}

// leftWhenHeard signals the leave done once every peer still in the mesh
// said it ran our last frame: so each held our last batch, and its
// CmdLeave, before our sessions close (netcode drops what is in flight
// when it shuts down).
func (r *Room) leftWhenHeard() {
	m := r.mesh
	select {
	case <-m.leaveDone:
		return
	default:
	}
	for _, p := range m.peers {
		if !p.left && int32(p.ran-m.leaveAt) < 0 {
			return
		}
	}
	r.log.Info("mesh: left", "frame", m.leaveAt)
	close(m.leaveDone)
}

// LeaveMesh makes the room leave its mesh gracefully: its clients are sent
// away (shutdown) and their ships leave the world in its next batch, which
// tells every peer that it is its last; the returned channel is closed
// once the room has run that frame (then Close it). Without a mesh the
// channel is closed at once. Safe from any goroutine.
func (r *Room) LeaveMesh() <-chan struct{} {
	if r.mesh == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	r.mesh.leaveAsked.Store(true)
	r.waiter.Wake()
	return r.mesh.leaveDone
}

// startLeave, on the room's goroutine: the clients go (their leaves ride
// the next batch) and that batch is marked the last.
func (r *Room) startLeave() {
	m := r.mesh
	for _, c := range slices.Clone(r.order) {
		r.sendAway(c, ReasonShutdown)
	}
	m.leaveAt = m.sealed + 1
	r.log.Info("mesh: leaving", "after frame", m.leaveAt)
}

// alarm reports world hash mismatches: never silent.
func (r *Room) alarm(ms []mesh.Mismatch) {
	for _, x := range ms {
		r.mesh.mismatches++
		r.log.Error("mesh: WORLD HASH MISMATCH", "frame", x.Frame, "self", r.mesh.cfg.Self, "peer", x.Peer,
			"ours", fmt.Sprintf("%016x", x.Ours), "theirs", fmt.Sprintf("%016x", x.Their))
	}
}

func (r *Room) dropPeer(p *peer, reason Reason) {
	if p.link == nil {
		return
	}
	delete(r.mesh.byLink, p.link)
	p.link.Close(reason)
	p.link, p.hello = nil, false
	r.peerGone(p)
}

// peerGone forgets the batches of p not in whole when its session ended:
// it resends them, from their first chunk, once it is back.
func (r *Room) peerGone(p *peer) {
	m := r.mesh
	m.frames = m.lock.Forget(p.member.ID, m.frames[:0])
	for _, f := range m.frames {
		r.queue.dropOrigin(f, p.member.ID)
	}
}

func (r *Room) sendPeer(p *peer, msg []byte) {
	if p.link == nil || !p.hello {
		return
	}
	if err := p.link.SendReliable(msg); err != nil {
		r.log.Error("mesh: batch not sent; session ends", "member", p.member.ID, "err", err)
		r.dropPeer(p, ReasonBacklog)
		return
	}
	p.sentBytes += uint64(len(msg))
}

// seal sends the room's batches for every frame up to through that it has
// not sent: its own actions stamped for each, with the world hash of the
// last frame it ran.
func (r *Room) seal(through uint32) {
	m := r.mesh
	if m.leaveAt != 0 && int32(through-m.leaveAt) > 0 {
		through = m.leaveAt // its last batch
	}
	for int32(through-m.sealed) > 0 {
		f := m.sealed + 1
		out := m.out[:0]
		for _, a := range r.queue.actionsFor(f) {
			if a.Origin == m.cfg.Self {
				out = append(out, protocol.BatchAction{Client: a.Client, Seq: a.Seq, Kind: a.Kind, Args: a.Args})
			}
		}
		m.out = out
		ends, err := protocol.ChunkBatch(m.ends[:0], out, m.cfg.MaxChunk)
		m.ends = ends
		if err != nil {
			// The queue's bounds keep a frame's own actions within 255
			// chunks of the smallest chunk (Config.Validate).
			panic("server: " + err.Error())
		}
		// The frame's chunks reuse the arrays of the frame span frames back.
		bufs := m.sent[f%uint32(len(m.sent))]
		bufs = bufs[:cap(bufs)]
		chunks := bufs[:0]
		start := 0
		hash := r.worldHash()
		for i, end := range ends {
			b := protocol.Batch{Frame: f, Chunk: uint8(i), Chunks: uint8(len(ends)), HashFrame: r.frame, Hash: hash, Actions: out[start:end]}
			if i == len(ends)-1 {
				b.Commands = m.cmds[:0]
				if f%uint32(max(1, r.cfg.TickHz/4)) == 0 || f == 1 {
					m.reported = r.load()
					b.Commands = append(b.Commands,
						protocol.Command{Kind: protocol.CmdLoad, Member: m.cfg.Self, Client: uint32(m.reported)},
						protocol.Command{Kind: protocol.CmdPing, Member: m.cfg.Self, Client: pingStamp(r.now)})
				}
				if f == m.leaveAt {
					b.Commands = append(b.Commands, protocol.Command{Kind: protocol.CmdLeave})
				}
				// Pongs fill what is left; the rest wait for the next batch.
				n := min(len(m.pongs), protocol.MaxBatchCommands-len(b.Commands))
				b.Commands = append(b.Commands, m.pongs[:n]...)
				m.pongs = append(m.pongs[:0], m.pongs[n:]...)
				m.cmds = b.Commands
			}
			start = end
			var dst []byte
			if i < len(bufs) {
				dst = bufs[i][:0]
			}
			chunks = append(chunks, protocol.AppendBatch(dst, &b))
		}
		m.sent[f%uint32(len(m.sent))] = chunks
		for _, id := range m.lock.Peers() {
			p := m.peers[id]
			if p.left && int32(f-(p.last+uint32(r.cfg.InputDelay)+1)) > 0 {
				continue // it left: it needs our batches up to the one that says we ran its last frame
			}
			for _, c := range chunks {
				r.sendPeer(p, c)
			}
		}
		m.sealed = f
	}
}

// dialPeers asks the first transport that dials to open a session with
// every higher-numbered member that has none, twice a second.
func (r *Room) dialPeers() {
	m := r.mesh
	if r.frameTicks++; r.frameTicks%uint64(max(1, r.cfg.TickHz/2)) != 1%uint64(max(1, r.cfg.TickHz/2)) {
		return
	}
	if m.leaveAt != 0 {
		return // leaving: no new sessions
	}
	var d PeerDialer
	for _, t := range r.transports {
		if pd, ok := t.(PeerDialer); ok {
			d = pd
			break
		}
	}
	if d == nil {
		return
	}
	for _, id := range m.lock.Peers() {
		p := m.peers[id]
		if id > m.cfg.Self && p.link == nil && !p.left {
			if err := d.DialPeer(p.member.Addr); err != nil {
				r.log.Debug("mesh: dial", "member", id, "err", err)
			}
		}
	}
}

// meshStep readies the next frame on a mesh: it seals the room's batches
// through the frame its clients' actions now stamp, and reports whether
// every peer's batch for the next frame is in (else the stall is counted
// and, once a second, logged with the members waited for).
func (r *Room) meshStep(now time.Time) bool {
	m := r.mesh
	r.dialPeers()
	if !m.formed {
		return false
	}
	if m.leaveAsked.Load() && m.leaveAt == 0 {
		r.startLeave()
	}
	if m.leaveAt != 0 && int32(r.frame-m.leaveAt) >= 0 {
		r.leftWhenHeard()
		return false // it ran its last frame
	}
	r.seal(r.frame + 1 + uint32(r.cfg.InputDelay))
	if m.lock.Ready() {
		return true
	}
	m.lock.Wait(now)
	m.stalledTicks++
	if m.stalledTicks%uint64(r.cfg.TickHz) == 1 {
		m.block = m.lock.Missing(m.block[:0])
		r.log.Warn("mesh: waiting for peers' batches", "frame", m.lock.Next(), "members", m.block)
	}
	return false
}

// meshRan records a frame the room ran, and compares its hash.
func (r *Room) meshRan(now time.Time) {
	m := r.mesh
	m.mism = m.lock.Ran(now, r.worldHash(), m.mism[:0])
	r.alarm(m.mism)
	if m.leaveAt != 0 && r.frame == m.leaveAt {
		r.leftWhenHeard()
	}
}

// redirectTarget is the member a client connecting now is pointed to, if
// any: the least loaded peer that is up and said its load, when this member
// serves at least RedirectMargin more clients. The target's load counts the
// client at once, so a crowd arriving together spreads over the peers.
func (r *Room) redirectTarget() (netip.AddrPort, bool) {
	m := r.mesh
	if m == nil || !m.formed || m.cfg.RedirectMargin < 0 || m.leaveAt != 0 {
		return netip.AddrPort{}, false
	}
	// Its own load as it last told its peers: as old as theirs, so that
	// members that all receive a crowd at once agree nobody is above the
	// mean, and a client pointed to the least loaded member is not pointed
	// on from there.
	m.loads = m.loads[:0]
	for _, id := range m.lock.Peers() {
		p := m.peers[id]
		if p.hello && !p.left && p.load >= 0 {
			m.loads = append(m.loads, peerLoad{p.member, p.load})
		}
	}
	i, ok := pickRedirect(m.reported, m.loads, m.cfg.RedirectMargin)
	if !ok {
		return netip.AddrPort{}, false
	}
	best := m.peers[m.loads[i].member.ID]
	best.load++
	return best.member.Addr, true
}

// peerLoad is a peer and the load it said it serves.
type peerLoad struct {
	member mesh.Member
	load   int
}

// pickRedirect applies the redirect rule: a member whose own load is
// above the mean of the members' loads (its own included) by margin points
// a connecting client to its least loaded peer, the index it returns. A
// member whose peers' loads are a second old never sends a client to one
// that would send it on: a balanced crowd arriving everywhere at once stays
// put.
func pickRedirect(own int, peers []peerLoad, margin int) (int, bool) {
	best := -1
	sum, n := own, 1
	for i, p := range peers {
		sum, n = sum+p.load, n+1
		if best < 0 || p.load < peers[best].load {
			best = i
		}
	}
	if best < 0 || own*n < sum+margin*n {
		return 0, false
	}
	return best, true
}

// BrowserRedirect tells where a browser's WebRTC offer should go instead
// of here: the public HTTP address of the peer a native client would be
// pointed to (Redirect), by the loads as of the room's last tick, among
// the peers whose membership entry names one. Each browser sent there
// counts against that peer until the next tick. Safe from any goroutine.
func (r *Room) BrowserRedirect() (string, bool) {
	m := r.mesh
	if m == nil {
		return "", false
	}
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	if !m.pubRedirect.on {
		return "", false
	}
	peers := m.pubRedirect.peers
	i, ok := pickRedirect(m.pubRedirect.own, peers, m.cfg.RedirectMargin)
	if !ok {
		return "", false
	}
	peers[i].load++
	m.pubRedirect.sent++
	return peers[i].member.HTTP, true
}

// load is the clients the room serves, as CmdLoad says it: its sessions
// but those it pointed elsewhere.
func (r *Room) load() int {
	if r.mesh == nil {
		return r.proven + r.unproven
	}
	return r.proven + r.unproven - r.mesh.redirecting
}

// worldHash is the game's hash of the frame the room ran last, computed
// once a frame (the lockstep compares it, and the next batches carry it).
func (r *Room) worldHash() uint64 {
	m := r.mesh
	if !m.worldOK || m.worldFrame != r.frame {
		m.world, m.worldFrame, m.worldOK = r.game.Hash(), r.frame, true
	}
	return m.world
}

// stampFrame is the frame the room's own actions (its clients', its joins
// and leaves) are stamped for now: InputDelay frames after the next one,
// and on a mesh never a frame whose batch went out.
func (r *Room) stampFrame() uint32 {
	f := r.frame + 1 + uint32(r.cfg.InputDelay)
	if r.mesh != nil && int32(r.mesh.sealed+1-f) > 0 {
		f = r.mesh.sealed + 1
	}
	return f
}

// MeshPeer is what the room knows of one peer.
type MeshPeer struct {
	mesh.PeerStats
	Addr                netip.AddrPort
	Up                  bool // a session with it said Hello
	SentBytes, GotBytes uint64
	RTT                 time.Duration // smoothed round trip of pings answered in its batches; 0: none yet
}

// MeshStats is the room's side of its mesh (zero without one).
type MeshStats struct {
	Self         uint16
	Formed       bool
	Sealed       uint32 // the last frame whose batch went out
	Mismatches   uint64
	StalledTicks uint64
	Redirects    uint64 // connecting clients pointed to a peer
	// BrowserRedirects: browsers' offers sent to a peer's HTTP address.
	BrowserRedirects uint64
	Duplicates       uint64 // chunks a peer resent that were held already (after its session came back)
	Peers            []MeshPeer
}

// publishMesh copies the mesh's figures where MeshStats reads them (the
// room's goroutine, each tick; the copy reuses its arrays).
func (r *Room) publishMesh() {
	m := r.mesh
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	s := &m.pub
	s.Self, s.Formed, s.Sealed, s.Mismatches, s.StalledTicks, s.Redirects = m.cfg.Self, m.formed, m.sealed, m.mismatches, m.stalledTicks, m.redirects
	s.Duplicates = m.duplicates
	s.BrowserRedirects = m.pubRedirect.sent
	pr := &m.pubRedirect
	pr.on = m.formed && m.cfg.RedirectMargin >= 0 && m.leaveAt == 0
	pr.own = m.reported
	pr.peers = pr.peers[:0]
	for _, id := range m.lock.Peers() {
		if p := m.peers[id]; p.hello && !p.left && p.load >= 0 && p.member.HTTP != "" {
			pr.peers = append(pr.peers, peerLoad{p.member, p.load})
		}
	}
	m.stats = m.lock.Stats(m.stats[:0])
	s.Peers = s.Peers[:0]
	for _, ps := range m.stats {
		p := m.peers[ps.Member]
		s.Peers = append(s.Peers, MeshPeer{PeerStats: ps, Addr: p.member.Addr, Up: p.hello, SentBytes: p.sentBytes, GotBytes: p.gotBytes, RTT: p.rtt})
	}
}

// MeshStats returns the room's mesh figures as of its last tick (zero
// without a mesh). Safe from any goroutine.
func (r *Room) MeshStats() MeshStats {
	m := r.mesh
	if m == nil {
		return MeshStats{}
	}
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	s := m.pub
	s.Peers = slices.Clone(m.pub.Peers)
	return s
}
