//! The selective forwarding unit: one task owns every WebRTC peer (str0m, sans-IO), one UDP
//! socket per offered address and an optional ICE-TCP listener. Each participant sends its
//! microphone (and optionally camera and screen) to the server and receives everyone else's
//! streams from it. The server is always the SDP offerer, so negotiation has one direction.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, SeqNo, Ssrc};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One participant's connection to the media server (a browser tab in a call).
pub type PeerId = u64;

/// What a participant sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Mic,
    Camera,
    Screen,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Mic => "mic",
            Source::Camera => "cam",
            Source::Screen => "screen",
        }
    }
    fn kind(self) -> MediaKind {
        match self {
            Source::Mic => MediaKind::Audio,
            _ => MediaKind::Video,
        }
    }
}

#[derive(Debug)]
pub enum Command {
    Join {
        peer: PeerId,
        call: u64,
        user_id: i64,
        /// Frames for this participant's WebSocket (offers).
        signal: mpsc::UnboundedSender<String>,
    },
    Answer {
        peer: PeerId,
        sdp: String,
    },
    Media {
        peer: PeerId,
        camera: bool,
        screen: bool,
    },
    Mute {
        peer: PeerId,
        muted: bool,
    },
    Leave {
        peer: PeerId,
    },
    /// Reports the number of peers (for tests and benchmarks).
    Count(tokio::sync::oneshot::Sender<usize>),
    /// Hands over (and clears) the forwarding delays measured so far, in microseconds: from a
    /// packet's arrival at the socket to its copies being sent to every receiver.
    Delays(tokio::sync::oneshot::Sender<Vec<u32>>),
}

/// What the media server tells the call service.
#[derive(Debug)]
pub enum Report {
    Speaking {
        peer: PeerId,
        speaking: bool,
    },
    /// The peer's media connection is gone (closed, failed, or never connected).
    Gone {
        peer: PeerId,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    #[error("cannot listen for call media on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("no address to offer for call media; set calls.addresses")]
    NoAddress,
}

/// A handle to the running media server.
#[derive(Clone)]
pub struct Sfu {
    tx: mpsc::UnboundedSender<Command>,
    pub udp: Vec<SocketAddr>,
    pub tcp: Vec<SocketAddr>,
}

impl Sfu {
    pub fn send(&self, cmd: Command) {
        let _ = self.tx.send(cmd);
    }

    /// The forwarding delays measured since the last call (microseconds).
    pub async fn take_delays(&self) -> Vec<u32> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Command::Delays(tx));
        rx.await.unwrap_or_default()
    }

    /// Peers the media server holds right now.
    pub async fn peer_count(&self) -> usize {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Command::Count(tx));
        rx.await.unwrap_or(0)
    }
}

struct Packet {
    proto: Protocol,
    at: Instant,
    source: SocketAddr,
    destination: SocketAddr,
    data: Vec<u8>,
}

enum Net {
    Packet(Packet),
    TcpOpen(SocketAddr, mpsc::Sender<Vec<u8>>),
    TcpClosed(SocketAddr),
}

/// An outgoing line: another participant's source, as an m-line of this peer.
struct OutLine {
    mid: Mid,
    open: bool,
    /// Subtracted from the source's extended sequence numbers, so that this receiver's stream
    /// starts with a rollover counter of 0 however long the source has been sending (SRTP
    /// has no way to tell a receiver a later one).
    seq_base: Option<u64>,
    /// The source's count of held-back microphone packets when this receiver's stream began:
    /// later ones are taken out of its sequence numbers, so a pause is not a loss to it.
    held_base: Option<u64>,
    /// The send stream's SSRC once found by its MID: a keyed lookup for every later packet
    /// instead of a search through the receiver's streams.
    ssrc: Option<Ssrc>,
}

struct Pending {
    offer: SdpPendingOffer,
    sent: Instant,
}

struct Peer {
    id: PeerId,
    call: u64,
    user_id: i64,
    rtc: Rtc,
    signal: mpsc::UnboundedSender<String>,
    created: Instant,
    next: Instant,
    connected: bool,
    dead: bool,
    /// Inbound lines this peer sends on, once offered.
    inbound: BTreeMap<Source, Mid>,
    /// Which inbound lines the peer wants (the microphone always).
    want_camera: bool,
    want_screen: bool,
    /// Sources this peer has answered for, so others can receive them.
    live: BTreeMap<Source, bool>,
    out: BTreeMap<(PeerId, Source), OutLine>,
    pending: Option<Pending>,
    muted: bool,
    level: f32,
    speaking: bool,
    speaking_changed: Instant,
    last_keyframe_request: Instant,
    mic: MicGate,
}

/// Holds back a microphone's packets while it is muted or has been quiet for a while, as a
/// browser's own DTX would: every receiver is spared packets that carry nothing audible, and
/// the server's work follows who talks rather than how many listen.
#[derive(Default)]
struct MicGate {
    /// When the current run of quiet packets began.
    quiet_since: Option<Instant>,
    /// Packets held back so far.
    held: u64,
    /// The newest sequence number held back: a reordered packet from before it has lost its
    /// place in the receivers' sequence.
    held_upto: Option<u64>,
    /// Packets were held back since the last one passed.
    resuming: bool,
}

impl MicGate {
    /// Whether a microphone packet goes on to the receivers: `None` holds it back, `Some(true)`
    /// passes the first packet after a hold, which RTP marks as the start of a talkspurt.
    fn pass(&mut self, seq: u64, level: Option<i8>, muted: bool, at: Instant) -> Option<bool> {
        if self.held_upto.is_some_and(|h| seq < h) {
            return None;
        }
        let quiet = muted || level.is_some_and(|l| l < QUIET_BELOW_DBOV);
        let hold = if quiet {
            let since = *self.quiet_since.get_or_insert(at);
            muted || at.saturating_duration_since(since) >= QUIET_HANGOVER
        } else {
            self.quiet_since = None;
            false
        };
        if hold {
            self.held += 1;
            self.held_upto = Some(seq);
            self.resuming = true;
            return None;
        }
        Some(std::mem::take(&mut self.resuming))
    }
}

/// The shortest sleep of the media loop when no packet arrives.
const TIMER_SLACK: Duration = Duration::from_millis(5);
/// How often the loop looks for peers that are gone and offers that went unanswered.
const HOUSEKEEPING_EVERY: Duration = Duration::from_millis(100);
/// How long a browser may take to connect its media before it counts as gone.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// An offer not answered in this time is withdrawn and made again.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);
/// Smoothed audio level (dBov) above which someone is speaking, and below which they stop.
const SPEAKING_ON: f32 = -50.0;
const SPEAKING_OFF: f32 = -60.0;
const SPEAKING_MIN_CHANGE: Duration = Duration::from_millis(300);
/// A microphone packet quieter than this (dBov) is near silence: a quiet room behind noise
/// suppression, or a muted track.
const QUIET_BELOW_DBOV: i8 = -70;
/// How long a microphone must stay quiet before its packets are held back, so the tail of a
/// word and short pauses still reach the receivers.
const QUIET_HANGOVER: Duration = Duration::from_millis(600);

/// The addresses to offer: configured ones, or every loopback, private and link-local IPv4
/// address of this machine.
pub fn media_addresses(configured: &[IpAddr]) -> Vec<IpAddr> {
    if !configured.is_empty() {
        return configured.to_vec();
    }
    let mut out: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| match ip {
            IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
            IpAddr::V6(_) => false,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Starts the media server on `addresses` (UDP on `udp_port`, ICE-TCP on `tcp_port` unless 0).
pub async fn start(
    addresses: Vec<IpAddr>,
    udp_port: u16,
    tcp_port: u16,
    audio_frame_ms: u32,
    reports: mpsc::UnboundedSender<Report>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<Sfu, SfuError> {
    if addresses.is_empty() {
        return Err(SfuError::NoAddress);
    }
    let (net_tx, net_rx) = mpsc::channel::<Net>(4096);
    let mut sockets = HashMap::new();
    let mut udp = Vec::new();
    for ip in &addresses {
        let addr = SocketAddr::new(*ip, udp_port);
        let bound = std::net::UdpSocket::bind(addr)
            .and_then(|sock| {
                sock.set_nonblocking(true)?;
                let local = sock.local_addr()?;
                // Read interest only: registered for writing too (as tokio's UdpSocket is), the
                // socket would raise a writable edge after every datagram sent, and the poller
                // would hand the loop an event for it, for nothing: a UDP send never waits here.
                // SAFETY: the AsyncFd owns the socket, which owns its descriptor, so the
                // descriptor stays open and the same until the AsyncFd is dropped.
                let fd = unsafe { AsyncFd::register_with_interest(sock, Interest::READABLE) };
                Ok((fd.map_err(std::io::Error::from)?, local))
            })
            .map_err(|source| SfuError::Bind { addr, source })?;
        let (sock, local) = bound;
        let sock = Arc::new(sock);
        udp.push(local);
        sockets.insert(local, sock.clone());
        let tx = net_tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2000];
            loop {
                let Ok(mut ready) = sock.readable().await else {
                    return;
                };
                let Ok(got) = ready.try_io(|s| s.get_ref().recv_from(&mut buf)) else {
                    continue;
                };
                // An error here is an ICMP report about an earlier send: nothing to act on.
                let Ok((n, source)) = got else {
                    continue;
                };
                let p = Packet {
                    proto: Protocol::Udp,
                    at: Instant::now(),
                    source,
                    destination: local,
                    data: buf[..n].to_vec(),
                };
                // A full queue means the loop is overloaded: dropping is what UDP does anyway.
                if tx.try_send(Net::Packet(p)).is_err() && tx.is_closed() {
                    return;
                }
            }
        });
    }
    let mut tcp = Vec::new();
    if tcp_port != 0 {
        for ip in &addresses {
            let addr = SocketAddr::new(*ip, tcp_port);
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| SfuError::Bind { addr, source })?;
            let local = listener
                .local_addr()
                .map_err(|source| SfuError::Bind { addr, source })?;
            tcp.push(local);
            tokio::spawn(accept_tcp(listener, local, net_tx.clone()));
        }
    }
    let (tx, cmd_rx) = mpsc::unbounded_channel();
    let candidates: Vec<Candidate> = udp
        .iter()
        .filter_map(|a| Candidate::host(*a, "udp").ok())
        .chain(tcp.iter().filter_map(|a| {
            Candidate::builder()
                .tcp()
                .host(*a)
                .tcptype(TcpType::Passive)
                .build()
                .ok()
        }))
        .collect();
    let mut lp = Loop {
        peers: HashMap::new(),
        io: Io {
            sockets,
            tcp: HashMap::new(),
            reports,
            wake_at: std::cell::Cell::new(Instant::now()),
        },
        candidates,
        dirty: true,
        routes: HashMap::new(),
        delays: Vec::new(),
        forwarded: Vec::new(),
        members: HashMap::new(),
        due: Vec::new(),
        housekeeping_at: Instant::now(),
        audio_frame_ms,
    };
    let mut net_rx = net_rx;
    let mut cmd_rx = cmd_rx;
    tokio::spawn(async move {
        loop {
            let now = Instant::now();
            let next = if lp.due.is_empty() {
                lp.io
                    .wake_at
                    .get()
                    .min(now + Duration::from_secs(1))
                    // Timers (reports, retransmits, keep-alives) tolerate a few milliseconds
                    // of lateness; waking for each one separately costs more than the work.
                    .max(now + TIMER_SLACK)
            } else {
                now
            };
            tokio::select! {
                n = net_rx.recv() => match n {
                    Some(n) => {
                        lp.net(n);
                        // Whatever else already arrived goes in before the timers run again.
                        for _ in 0..64 {
                            let Ok(n) = net_rx.try_recv() else { break };
                            lp.net(n);
                        }
                    }
                    None => return,
                },
                c = cmd_rx.recv() => match c {
                    Some(c) => lp.command(c),
                    None => return,
                },
                _ = tokio::time::sleep_until(next.into()) => {}
                _ = shutdown.changed() => {
                    for p in lp.peers.values_mut() {
                        p.rtc.disconnect();
                    }
                    return;
                }
            }
            lp.tick();
        }
    });
    Ok(Sfu { tx, udp, tcp })
}

/// ICE over TCP: RFC 4571 framing, a 16-bit length before every packet.
async fn accept_tcp(listener: TcpListener, local: SocketAddr, net: mpsc::Sender<Net>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let net = net.clone();
        tokio::spawn(async move {
            let (mut rd, mut wr) = stream.into_split();
            let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(256);
            if net.send(Net::TcpOpen(peer, out_tx)).await.is_err() {
                return;
            }
            let writer = tokio::spawn(async move {
                while let Some(p) = out_rx.recv().await {
                    let Ok(len) = u16::try_from(p.len()) else {
                        continue;
                    };
                    if wr.write_all(&len.to_be_bytes()).await.is_err()
                        || wr.write_all(&p).await.is_err()
                    {
                        return;
                    }
                }
            });
            let mut len = [0u8; 2];
            loop {
                if rd.read_exact(&mut len).await.is_err() {
                    break;
                }
                let mut data = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if rd.read_exact(&mut data).await.is_err() {
                    break;
                }
                let p = Packet {
                    proto: Protocol::Tcp,
                    at: Instant::now(),
                    source: peer,
                    destination: local,
                    data,
                };
                if net.send(Net::Packet(p)).await.is_err() {
                    break;
                }
            }
            writer.abort();
            let _ = net.send(Net::TcpClosed(peer)).await;
        });
    }
}

/// Where a peer's output goes: its packets to the network, its failures to the call service.
struct Io {
    sockets: HashMap<SocketAddr, Arc<AsyncFd<std::net::UdpSocket>>>,
    tcp: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    reports: mpsc::UnboundedSender<Report>,
    /// No peer's timer falls before this: until then a loop turn runs only the peers that
    /// were written to, not a pass over every peer.
    wake_at: std::cell::Cell<Instant>,
}

struct Loop {
    peers: HashMap<PeerId, Peer>,
    io: Io,
    candidates: Vec<Candidate>,
    /// Some call's lines changed: renegotiate where needed.
    dirty: bool,
    /// Which peer a remote address belongs to, once its connectivity checks told us.
    routes: HashMap<(Protocol, SocketAddr), PeerId>,
    /// Forwarding delays (µs), kept for the benchmark; bounded.
    delays: Vec<u32>,
    /// Arrival times of the packets forwarded in this turn.
    forwarded: Vec<Instant>,
    /// Each call's peers.
    members: HashMap<u64, Vec<PeerId>>,
    /// Peers written to in this turn: their packets leave at their next timeout, which is now.
    due: Vec<PeerId>,
    /// When to look next for peers that are gone and offers that went unanswered.
    housekeeping_at: Instant,
    /// Sound per microphone packet that offers ask browsers for (ms).
    audio_frame_ms: u32,
}

/// Delay samples kept at most (the benchmark collects them every few seconds).
const MAX_DELAY_SAMPLES: usize = 1 << 20;

/// Something a peer's connection produced that affects other peers.
enum Propagate {
    Rtp(PeerId, Box<RtpPacket>),
    Keyframe(PeerId, Mid, Option<str0m::media::Rid>, KeyframeRequestKind),
}

impl Loop {
    fn net(&mut self, n: Net) {
        match n {
            Net::TcpOpen(addr, tx) => {
                self.io.tcp.insert(addr, tx);
            }
            Net::TcpClosed(addr) => {
                self.io.tcp.remove(&addr);
            }
            Net::Packet(p) => {
                let Ok(contents) = p.data.as_slice().try_into() else {
                    return;
                };
                let input = Input::Receive(
                    p.at,
                    Receive {
                        proto: p.proto,
                        source: p.source,
                        destination: p.destination,
                        contents,
                    },
                );
                // Media comes from the address the checks nominated, so a lookup finds its peer;
                // only new addresses (connectivity checks) ask every peer.
                let key = (p.proto, p.source);
                let cached = self.routes.get(&key).copied().filter(|id| {
                    self.peers
                        .get(id)
                        .is_some_and(|peer| peer.rtc.accepts(&input))
                });
                let found = cached.or_else(|| {
                    self.peers
                        .values()
                        .find(|peer| !peer.dead && peer.rtc.accepts(&input))
                        .map(|peer| peer.id)
                });
                let Some(id) = found else {
                    return;
                };
                if cached.is_none() {
                    if self.routes.len() > 4 * self.peers.len() + 64 {
                        let live: std::collections::HashSet<PeerId> =
                            self.peers.keys().copied().collect();
                        self.routes.retain(|_, id| live.contains(id));
                    }
                    self.routes.insert(key, id);
                }
                let mut out = Vec::new();
                if let Some(peer) = self.peers.get_mut(&id) {
                    if peer.rtc.handle_input(input).is_err() {
                        peer.dead = true;
                    }
                    drain(peer, &self.io, &mut out);
                }
                self.propagate(out);
            }
        }
    }

    fn command(&mut self, c: Command) {
        match c {
            Command::Join {
                peer,
                call,
                user_id,
                signal,
            } => {
                let now = Instant::now();
                // RTP mode: packets are forwarded as they come, not reassembled into frames
                // and cut up again for every receiver.
                let mut rtc = Rtc::builder()
                    .set_ice_lite(true)
                    .set_rtp_mode(true)
                    .clear_codecs()
                    .enable_opus(true, false)
                    .enable_vp8(true)
                    .build(now);
                for c in &self.candidates {
                    rtc.add_local_candidate(c.clone());
                }
                self.members.entry(call).or_default().push(peer);
                self.io.wake_at.set(now);
                self.peers.insert(
                    peer,
                    Peer {
                        id: peer,
                        call,
                        user_id,
                        rtc,
                        signal,
                        created: now,
                        next: now,
                        connected: false,
                        dead: false,
                        inbound: BTreeMap::new(),
                        want_camera: false,
                        want_screen: false,
                        live: BTreeMap::new(),
                        out: BTreeMap::new(),
                        pending: None,
                        muted: false,
                        level: -127.0,
                        speaking: false,
                        speaking_changed: now,
                        last_keyframe_request: now,
                        mic: MicGate::default(),
                    },
                );
                self.dirty = true;
            }
            Command::Answer { peer, sdp } => self.answer(peer, &sdp),
            Command::Media {
                peer,
                camera,
                screen,
            } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.want_camera = camera;
                    p.want_screen = screen;
                    self.dirty = true;
                }
            }
            Command::Mute { peer, muted } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.muted = muted;
                    if muted && p.speaking {
                        p.speaking = false;
                        let _ = self.io.reports.send(Report::Speaking {
                            peer,
                            speaking: false,
                        });
                    }
                }
            }
            Command::Leave { peer } => {
                if let Some(mut p) = self.remove_peer(peer) {
                    p.rtc.disconnect();
                    self.dirty = true;
                }
            }
            Command::Count(tx) => {
                let _ = tx.send(self.peers.len());
            }
            Command::Delays(tx) => {
                let _ = tx.send(std::mem::take(&mut self.delays));
            }
        }
    }

    fn answer(&mut self, id: PeerId, sdp: &str) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        let Some(pending) = peer.pending.take() else {
            return;
        };
        let accepted = SdpAnswer::from_sdp_string(sdp)
            .ok()
            .map(|answer| peer.rtc.sdp_api().accept_answer(pending.offer, answer));
        match accepted {
            Some(Ok(())) => {
                for line in peer.out.values_mut() {
                    line.open = true;
                }
                for src in peer.inbound.keys() {
                    peer.live.insert(*src, true);
                }
            }
            _ => {
                // The offer is withdrawn; lines it would have opened are made again.
                peer.out.retain(|_, l| l.open);
                tracing::debug!(peer = id, "call answer refused; offering again");
            }
        }
        let mut out = Vec::new();
        drain(peer, &self.io, &mut out);
        self.propagate(out);
        self.dirty = true;
        // A new viewer of a video needs a keyframe to start from.
        let wanted: Vec<(PeerId, Source)> = self
            .peers
            .get(&id)
            .map(|p| {
                p.out
                    .keys()
                    .filter(|(_, s)| *s != Source::Mic)
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        for (src, source) in wanted {
            self.request_keyframe(src, source, None, KeyframeRequestKind::Pli);
        }
    }

    fn request_keyframe(
        &mut self,
        src: PeerId,
        source: Source,
        rid: Option<str0m::media::Rid>,
        kind: KeyframeRequestKind,
    ) {
        let Some(p) = self.peers.get_mut(&src) else {
            return;
        };
        let Some(mid) = p.inbound.get(&source).copied() else {
            return;
        };
        if p.last_keyframe_request.elapsed() < Duration::from_millis(500) {
            return;
        }
        p.last_keyframe_request = Instant::now();
        if let Some(rx) = p.rtc.direct_api().stream_rx_by_mid(mid, rid) {
            rx.request_keyframe(kind);
        }
        let mut out = Vec::new();
        drain(p, &self.io, &mut out);
        self.propagate(out);
    }

    /// Removes a peer and its place in its call.
    fn remove_peer(&mut self, id: PeerId) -> Option<Peer> {
        let p = self.peers.remove(&id)?;
        if let Some(m) = self.members.get_mut(&p.call) {
            m.retain(|x| *x != id);
            if m.is_empty() {
                self.members.remove(&p.call);
            }
        }
        Some(p)
    }

    fn tick(&mut self) {
        let now = Instant::now();
        let mut out = Vec::new();
        let mut timeout = |p: &mut Peer, io: &Io| {
            if p.next <= now && !p.dead {
                if p.rtc.handle_input(Input::Timeout(now)).is_err() {
                    p.dead = true;
                }
                drain(p, io, &mut out);
            }
        };
        if now >= self.io.wake_at.get() {
            // Some peer's own timer is due: one pass over all, which also finds the next one.
            self.io.wake_at.set(now + Duration::from_secs(1));
            for p in self.peers.values_mut() {
                timeout(p, &self.io);
                if !p.dead {
                    self.io.wake_at.set(self.io.wake_at.get().min(p.next));
                }
            }
            self.due.clear();
        } else {
            for id in std::mem::take(&mut self.due) {
                if let Some(p) = self.peers.get_mut(&id) {
                    timeout(p, &self.io);
                }
            }
        }
        self.propagate(out);
        for at in self.forwarded.drain(..) {
            let us = at.elapsed().as_micros();
            self.delays.push(u32::try_from(us).unwrap_or(u32::MAX));
        }
        if now < self.housekeeping_at && !self.dirty {
            return;
        }
        self.housekeeping_at = now + HOUSEKEEPING_EVERY;
        // Reap peers whose media is gone or never came.
        let gone: Vec<PeerId> = self
            .peers
            .values()
            .filter(|p| {
                p.dead
                    || !p.rtc.is_alive()
                    || (!p.connected && now.duration_since(p.created) > CONNECT_TIMEOUT)
            })
            .map(|p| p.id)
            .collect();
        for id in gone {
            if let Some(mut p) = self.remove_peer(id) {
                p.rtc.disconnect();
            }
            let _ = self.io.reports.send(Report::Gone { peer: id });
            self.dirty = true;
        }
        for p in self.peers.values_mut() {
            if p.pending
                .as_ref()
                .is_some_and(|x| x.sent.elapsed() > ANSWER_TIMEOUT)
            {
                p.pending = None;
                p.out.retain(|_, l| l.open);
                self.dirty = true;
            }
        }
        if self.dirty {
            self.dirty = false;
            self.negotiate_all();
        }
    }

    /// Brings every peer's lines in line with its call: its own sources in, every other
    /// participant's live sources out.
    fn negotiate_all(&mut self) {
        let live: Vec<(u64, PeerId, i64, Source)> = self
            .peers
            .values()
            .flat_map(|p| {
                p.live
                    .iter()
                    .filter(|(_, on)| **on)
                    .map(move |(s, _)| (p.call, p.id, p.user_id, *s))
            })
            .collect();
        let users: HashMap<PeerId, i64> = self.peers.values().map(|p| (p.id, p.user_id)).collect();
        let ids: Vec<PeerId> = self.peers.keys().copied().collect();
        for id in ids {
            let Some(p) = self.peers.get_mut(&id) else {
                continue;
            };
            if p.pending.is_some() || p.dead {
                continue;
            }
            let wanted_out: Vec<(PeerId, Source)> = live
                .iter()
                .filter(|(call, src, _, _)| *call == p.call && *src != p.id)
                .map(|(_, src, _, s)| (*src, *s))
                .collect();
            let mut wanted_in = vec![Source::Mic];
            if p.want_camera {
                wanted_in.push(Source::Camera);
            }
            if p.want_screen {
                wanted_in.push(Source::Screen);
            }
            let add_in: Vec<Source> = wanted_in
                .iter()
                .filter(|s| !p.inbound.contains_key(s))
                .copied()
                .collect();
            let stop_in: Vec<Source> = p
                .inbound
                .keys()
                .filter(|s| !wanted_in.contains(s))
                .copied()
                .collect();
            let add_out: Vec<(PeerId, Source)> = wanted_out
                .iter()
                .filter(|k| !p.out.contains_key(k))
                .copied()
                .collect();
            let stop_out: Vec<(PeerId, Source)> = p
                .out
                .keys()
                .filter(|k| !wanted_out.contains(k))
                .copied()
                .collect();
            if add_in.is_empty() && stop_in.is_empty() && add_out.is_empty() && stop_out.is_empty()
            {
                continue;
            }
            let mut api = p.rtc.sdp_api();
            for s in &stop_in {
                if let Some(mid) = p.inbound.remove(s) {
                    api.stop_media(mid);
                    p.live.remove(s);
                }
            }
            for s in &add_in {
                let mid = api.add_media(
                    s.kind(),
                    Direction::RecvOnly,
                    Some(format!("p{}", p.id)),
                    Some(format!("p{}-{}", p.id, s.name())),
                    None,
                );
                p.inbound.insert(*s, mid);
            }
            for k in &stop_out {
                if let Some(line) = p.out.remove(k) {
                    api.stop_media(line.mid);
                }
            }
            for (src, s) in &add_out {
                let mid = api.add_media(
                    s.kind(),
                    Direction::SendOnly,
                    Some(format!("p{src}")),
                    Some(format!("p{src}-{}", s.name())),
                    None,
                );
                p.out.insert(
                    (*src, *s),
                    OutLine {
                        mid,
                        open: false,
                        seq_base: None,
                        held_base: None,
                        ssrc: None,
                    },
                );
            }
            let Some((offer, pending)) = api.apply() else {
                continue;
            };
            p.pending = Some(Pending {
                offer: pending,
                sent: Instant::now(),
            });
            let tracks: serde_json::Map<String, serde_json::Value> = p
                .out
                .iter()
                .map(|((src, s), line)| {
                    (
                        line.mid.to_string(),
                        json!({"user_id": users.get(src), "peer": src, "source": s.name()}),
                    )
                })
                .collect();
            let mid_of = |s: Source| p.inbound.get(&s).map(|m| m.to_string());
            let frame = json!({
                "type": "call_offer", "call_id": p.call,
                "sdp": shape_offer(&offer.to_sdp_string(), self.audio_frame_ms),
                "mic_mid": mid_of(Source::Mic), "cam_mid": mid_of(Source::Camera),
                "screen_mid": mid_of(Source::Screen), "tracks": tracks,
            });
            if p.signal.send(frame.to_string()).is_err() {
                p.dead = true;
            }
            let mut out = Vec::new();
            drain(p, &self.io, &mut out);
            self.propagate(out);
        }
    }

    fn propagate(&mut self, mut queue: Vec<Propagate>) {
        while let Some(item) = queue.pop() {
            match item {
                Propagate::Rtp(src, packet) => self.forward(src, *packet),
                Propagate::Keyframe(receiver, mid, rid, kind) => {
                    let found = self
                        .peers
                        .get(&receiver)
                        .and_then(|p| p.out.iter().find(|(_, l)| l.mid == mid).map(|(k, _)| *k));
                    if let Some((src, source)) = found {
                        self.request_keyframe(src, source, rid, kind);
                    }
                }
            }
        }
    }

    fn forward(&mut self, src: PeerId, packet: RtpPacket) {
        let Some(p) = self.peers.get_mut(&src) else {
            return;
        };
        let Some(mid) = p
            .rtc
            .direct_api()
            .stream_rx(&packet.header.ssrc)
            .map(|rx| rx.mid())
        else {
            return;
        };
        let Some(source) = p.inbound.iter().find(|(_, m)| **m == mid).map(|(s, _)| *s) else {
            return;
        };
        let call = p.call;
        let ext = &packet.header.ext_vals;
        let seq = *packet.seq_no;
        let mut marker = packet.header.marker;
        if source == Source::Mic {
            if let Some(level) = ext.audio_level.filter(|_| !p.muted) {
                p.level = p.level * 0.8 + f32::from(level) * 0.2;
                let speaking = if p.speaking {
                    p.level > SPEAKING_OFF
                } else {
                    p.level > SPEAKING_ON
                };
                if speaking != p.speaking && p.speaking_changed.elapsed() >= SPEAKING_MIN_CHANGE {
                    p.speaking = speaking;
                    p.speaking_changed = Instant::now();
                    let _ = self.io.reports.send(Report::Speaking {
                        peer: src,
                        speaking,
                    });
                }
            }
            match p.mic.pass(seq, ext.audio_level, p.muted, packet.timestamp) {
                None => return,
                Some(talkspurt) => marker |= talkspurt,
            }
        }
        // Only what describes the media goes on: the receiver's own session writes its MID,
        // transport-wide sequence numbers and send times.
        let ext_vals = ExtensionValues {
            audio_level: ext.audio_level,
            voice_activity: ext.voice_activity,
            video_orientation: ext.video_orientation,
            video_content_type: ext.video_content_type,
            ..Default::default()
        };
        // Receivers negotiated the same codecs, maybe under other payload type numbers.
        let Some(params) = p
            .rtc
            .codec_config()
            .params()
            .iter()
            .find(|c| c.pt() == packet.header.payload_type)
            .copied()
        else {
            return;
        };
        let held = if source == Source::Mic { p.mic.held } else { 0 };
        let video = source != Source::Mic;
        let now = Instant::now();
        let members = self
            .members
            .get(&call)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for t in members {
            let Some(q) = self.peers.get_mut(t) else {
                continue;
            };
            if q.id == src || q.dead {
                continue;
            }
            let Some(line) = q.out.get_mut(&(src, source)) else {
                continue;
            };
            if !line.open {
                continue;
            }
            let Some(pt) = q.rtc.codec_config().match_params(params).map(|c| c.pt()) else {
                continue;
            };
            let base = *line.seq_base.get_or_insert(seq & !0xffff);
            let held_base = *line.held_base.get_or_insert(held);
            // A packet from before this receiver's first one (reordered) is of no use to it.
            let Some(out_seq) = seq
                .checked_sub(base)
                .and_then(|s| s.checked_sub(held.saturating_sub(held_base)))
            else {
                continue;
            };
            let mut api = q.rtc.direct_api();
            let cached = line.ssrc.filter(|ssrc| {
                api.stream_tx(ssrc)
                    .is_some_and(|tx| tx.mid() == line.mid && tx.rid().is_none())
            });
            let ssrc = match cached {
                Some(ssrc) => ssrc,
                None => {
                    let Some(tx) = api.stream_tx_by_mid(line.mid, None) else {
                        continue;
                    };
                    let ssrc = tx.ssrc();
                    line.ssrc = Some(ssrc);
                    ssrc
                }
            };
            let Some(tx) = api.stream_tx(&ssrc) else {
                continue;
            };
            tx.write_rtp(
                RtpWrite::new(
                    pt,
                    SeqNo::from(out_seq),
                    packet.header.timestamp,
                    packet.timestamp,
                    packet.payload.clone(),
                )
                .marker(marker)
                .ext_vals(ext_vals.clone())
                .nackable(video),
            );
            // str0m releases a written packet at the receiver's next timeout; the tick at the
            // end of this loop turn runs it, once for everything written to that receiver. A
            // receiver already due is listed already, or its own timer brings the full pass.
            if q.next > now {
                q.next = now;
                self.due.push(q.id);
            }
        }
        // Measured once the copies have left, at the end of this turn's timeouts.
        if self.delays.len() + self.forwarded.len() < MAX_DELAY_SAMPLES {
            self.forwarded.push(packet.timestamp);
        }
    }
}

/// Shapes an offer's audio lines: asks for `frame_ms` of sound per packet (`a=ptime`, which
/// Chromium's Opus encoder follows; other browsers may keep 20 ms, which works as well), and
/// takes transport-wide congestion control off them, as Firefox does.
///
/// Every packet costs the server a decryption and one encryption and send per receiver, and
/// every receiver a decryption, whatever it carries: 40 ms frames halve that work for the
/// price of one more frame of delay. Wi-Fi gains most, where each packet costs airtime.
///
/// Transport-wide feedback steers a sender's bandwidth estimate, which matters for the video
/// a browser sends us and not at all for audio, whose bitrate Opus fixes; the SFU makes no
/// estimate of its own. Left on audio, every participant would get a feedback report every
/// 100 ms from the server and send one back for each stream it receives, and every packet
/// would carry a sequence number the server must track: in a call with nobody on camera,
/// that was about a quarter of the SFU's work.
fn shape_offer(sdp: &str, frame_ms: u32) -> String {
    let ptime = format!("a=ptime:{frame_ms}\r\n");
    let mut out = String::with_capacity(sdp.len() + 64);
    let mut audio = false;
    for line in sdp.split_inclusive('\n') {
        let l = line.trim_end();
        if l.starts_with("m=") {
            if audio {
                out.push_str(&ptime);
            }
            audio = l.starts_with("m=audio");
        }
        let twcc = (l.starts_with("a=extmap:") && l.contains("transport-wide-cc"))
            || (l.starts_with("a=rtcp-fb:") && l.ends_with(" transport-cc"));
        let own_ptime = l.starts_with("a=ptime:") || l.starts_with("a=maxptime:");
        if !(audio && (twcc || own_ptime)) {
            out.push_str(line);
        }
    }
    if audio {
        if !out.ends_with('\n') {
            out.push_str("\r\n");
        }
        out.push_str(&ptime);
    }
    out
}

/// Runs a peer's connection until it has nothing more to do now: sends its packets and
/// collects what must reach other peers.
fn drain(p: &mut Peer, io: &Io, out: &mut Vec<Propagate>) {
    loop {
        if p.dead {
            return;
        }
        match p.rtc.poll_output() {
            Ok(Output::Timeout(t)) => {
                p.next = t;
                io.wake_at.set(io.wake_at.get().min(t));
                return;
            }
            Ok(Output::Transmit(t)) => match t.proto {
                Protocol::Udp => {
                    if let Some(s) = io.sockets.get(&t.source) {
                        // Non-blocking: a full send buffer drops the datagram, as a network would.
                        let _ = s.get_ref().send_to(&t.contents, t.destination);
                    }
                }
                _ => {
                    if let Some(c) = io.tcp.get(&t.destination) {
                        let _ = c.try_send(t.contents.to_vec());
                    }
                }
            },
            Ok(Output::Event(e)) => match e {
                Event::Connected => p.connected = true,
                Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                    // ICE-lite cannot recover on its own: the browser restarts or leaves.
                    p.dead = true;
                }
                Event::RtpPacket(r) => out.push(Propagate::Rtp(p.id, Box::new(r))),
                Event::KeyframeRequest(r) => {
                    out.push(Propagate::Keyframe(p.id, r.mid, r.rid, r.kind))
                }
                Event::Closed => p.dead = true,
                _ => {}
            },
            Err(e) => {
                tracing::debug!(peer = p.id, error = %e, "call media connection failed");
                p.dead = true;
                let _ = io.reports.send(Report::Gone { peer: p.id });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds packets 20 ms apart from `seq` on; returns which passed.
    fn feed(g: &mut MicGate, t0: Instant, seqs: std::ops::Range<u64>, level: i8) -> Vec<bool> {
        seqs.map(|s| {
            g.pass(s, Some(level), false, t0 + Duration::from_millis(20 * s))
                .is_some()
        })
        .collect()
    }

    #[test]
    fn a_quiet_microphone_is_held_back_only_after_the_hangover() {
        let t0 = Instant::now();
        let mut g = MicGate::default();
        assert!(feed(&mut g, t0, 0..10, -20).iter().all(|p| *p));
        // Quiet: the first 600 ms still pass, so a word's tail and short pauses are heard.
        let quiet = feed(&mut g, t0, 10..60, -90);
        let passed = quiet.iter().filter(|p| **p).count();
        assert_eq!(passed, 30, "{quiet:?}");
        assert!(quiet[..30].iter().all(|p| *p) && quiet[30..].iter().all(|p| !*p));
        assert_eq!(g.held, 20);
        // The first audible packet passes at once, marked as a talkspurt's start.
        assert_eq!(
            g.pass(60, Some(-45), false, t0 + Duration::from_millis(1200)),
            Some(true)
        );
        // A packet reordered from before the pause has lost its place.
        assert_eq!(
            g.pass(55, Some(-20), false, t0 + Duration::from_millis(1300)),
            None
        );
        assert_eq!(g.held, 20);
        // No level at all: nothing to judge by, so it passes, not as a new talkspurt.
        assert_eq!(
            g.pass(61, None, false, t0 + Duration::from_secs(5)),
            Some(false)
        );
    }

    #[test]
    fn audio_lines_ask_for_the_frame_size_and_lose_transport_cc() {
        let sdp = "v=0\r\n\
            a=group:BUNDLE 0 1\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
            a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
            a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
            a=rtcp-fb:111 transport-cc\r\n\
            a=rtpmap:111 opus/48000/2\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\n\
            a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
            a=rtcp-fb:96 transport-cc\r\n\
            a=rtcp-fb:96 nack\r\n";
        let out = shape_offer(sdp, 40);
        let (audio, video) = out.split_once("m=video").unwrap();
        assert!(!audio.contains("transport-wide-cc") && !audio.contains("transport-cc"));
        assert!(audio.contains("ssrc-audio-level") && audio.contains("a=rtpmap:111 opus"));
        assert!(audio.ends_with("a=rtpmap:111 opus/48000/2\r\na=ptime:40\r\n"));
        assert!(video.contains("transport-wide-cc") && video.contains("a=rtcp-fb:96 transport-cc"));
        assert!(!video.contains("ptime"));
        assert!(out.ends_with("a=rtcp-fb:96 nack\r\n"));
        // An audio line last in the offer gets it too, once, replacing any it had.
        let last = shape_offer(
            "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ptime:20\r\n",
            60,
        );
        assert!(last.ends_with("SAVPF 111\r\na=ptime:60\r\n"), "{last}");
    }

    #[test]
    fn a_muted_microphone_is_held_back_at_once() {
        let t0 = Instant::now();
        let mut g = MicGate::default();
        assert_eq!(g.pass(0, Some(-20), true, t0), None);
        assert_eq!(g.pass(1, None, true, t0), None);
        assert_eq!(g.held, 2);
        assert_eq!(g.pass(2, Some(-20), false, t0), Some(true));
        assert_eq!(g.pass(3, Some(-20), false, t0), Some(false));
    }
}
