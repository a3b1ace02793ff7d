//! A WebRTC participant written with str0m, for server tests and the calls benchmark: it
//! answers the media server's offers, sends audio packets on its microphone line as a browser
//! does (one per `a=ptime` of the offer, 20 ms without one) and counts what arrives from each
//! other participant. Every packet carries the instant it was
//! sent, so a receiver in the same process measures the forwarding delay.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use std::sync::Arc;

use serde_json::Value;
use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{Frequency, MediaTime, Mid};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

type Inbox = mpsc::UnboundedReceiver<(Protocol, SocketAddr, Vec<u8>)>;

pub struct RtcClient {
    pub rtc: Rtc,
    udp: Option<Arc<UdpSocket>>,
    /// ICE over TCP (RFC 4571 framing) instead of UDP.
    tcp: Option<OwnedWriteHalf>,
    inbox: Inbox,
    local: SocketAddr,
    pub mic: Option<Mid>,
    /// Mid → the peer whose stream it carries.
    pub tracks: HashMap<Mid, u64>,
    /// Audio packets received per sending peer.
    pub received: HashMap<u64, u64>,
    /// Breaks in each sending peer's audio sequence numbers, and the last one seen.
    pub gaps: HashMap<u64, u64>,
    last_seq: HashMap<u64, u64>,
    /// The microphone's level (dBov) in every audio packet: -20 is speech, -90 a quiet room.
    pub level: i8,
    /// Video frames received per sending peer (camera or screen).
    pub received_video: HashMap<u64, u64>,
    /// The camera line, once the server offered one; frames go out on it when set.
    pub cam: Option<Mid>,
    video_mids: std::collections::HashSet<Mid>,
    frames: u64,
    /// One-way delays seen (sender's send to receiver's arrival), in microseconds.
    pub delays_us: Vec<u64>,
    pub connected: bool,
    epoch: Instant,
    sent: u64,
    next_send: Instant,
    next_video: Instant,
    /// Sound per audio packet: what the server's offer asked for.
    pub frame: Duration,
    pub sending: bool,
}

fn rtc() -> Rtc {
    Rtc::builder()
        .clear_codecs()
        .enable_opus(true, false)
        .enable_vp8(true)
        .build(Instant::now())
}

impl RtcClient {
    /// `epoch` must be shared by every client of one process for delays to mean anything.
    pub async fn new(epoch: Instant) -> RtcClient {
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let local = sock.local_addr().unwrap();
        let mut rtc = rtc();
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        let (tx, inbox) = mpsc::unbounded_channel();
        let reader = sock.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2000];
            while let Ok((n, src)) = reader.recv_from(&mut buf).await {
                if tx.send((Protocol::Udp, src, buf[..n].to_vec())).is_err() {
                    return;
                }
            }
        });
        Self::with(rtc, Some(sock), None, inbox, local, epoch)
    }

    /// A participant whose network lets only TCP through: it reaches the media server's ICE-TCP
    /// port and offers only a TCP candidate.
    pub async fn new_tcp(epoch: Instant, server: SocketAddr) -> RtcClient {
        let stream = TcpStream::connect(server).await.unwrap();
        let local = stream.local_addr().unwrap();
        let mut rtc = rtc();
        let cand = Candidate::builder()
            .tcp()
            .host(local)
            .tcptype(TcpType::Active)
            .build()
            .unwrap();
        rtc.add_local_candidate(cand);
        let (mut rd, wr) = stream.into_split();
        let (tx, inbox) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut len = [0u8; 2];
            while rd.read_exact(&mut len).await.is_ok() {
                let mut data = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if rd.read_exact(&mut data).await.is_err()
                    || tx.send((Protocol::Tcp, server, data)).is_err()
                {
                    return;
                }
            }
        });
        Self::with(rtc, None, Some(wr), inbox, local, epoch)
    }

    fn with(
        rtc: Rtc,
        udp: Option<Arc<UdpSocket>>,
        tcp: Option<OwnedWriteHalf>,
        inbox: Inbox,
        local: SocketAddr,
        epoch: Instant,
    ) -> RtcClient {
        RtcClient {
            rtc,
            udp,
            tcp,
            inbox,
            local,
            mic: None,
            tracks: HashMap::new(),
            received: HashMap::new(),
            gaps: HashMap::new(),
            last_seq: HashMap::new(),
            level: -20,
            received_video: HashMap::new(),
            cam: None,
            video_mids: Default::default(),
            frames: 0,
            delays_us: Vec::new(),
            connected: false,
            epoch,
            sent: 0,
            next_send: Instant::now(),
            next_video: Instant::now(),
            frame: Duration::from_millis(20),
            sending: true,
        }
    }

    /// Answers a `call_offer` frame; returns the answer SDP.
    pub fn accept(&mut self, offer: &Value) -> String {
        let text = offer["sdp"].as_str().unwrap();
        // As Chromium's Opus encoder does: the frame size the offer's audio line asks for.
        if let Some(ms) = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("a=ptime:"))
            .and_then(|v| v.parse().ok())
        {
            self.frame = Duration::from_millis(ms);
        }
        let sdp = SdpOffer::from_sdp_string(text).unwrap();
        let answer = self.rtc.sdp_api().accept_offer(sdp).unwrap();
        self.mic = offer["mic_mid"].as_str().map(Mid::from);
        self.cam = offer["cam_mid"].as_str().map(Mid::from);
        self.video_mids = offer["tracks"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, t)| t["source"] != "mic")
            .map(|(mid, _)| Mid::from(mid.as_str()))
            .collect();
        self.tracks = offer["tracks"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(mid, t)| (Mid::from(mid.as_str()), t["peer"].as_u64().unwrap()))
            .collect();
        answer.to_sdp_string()
    }

    /// Runs the connection until `until`: sends audio every `frame` while `sending`, and a
    /// video frame every 40 ms on the camera line if there is one.
    pub async fn run_until(&mut self, until: Instant) {
        loop {
            let timeout = self.drain().await;
            let now = Instant::now();
            if now >= until {
                return;
            }
            if self.sending && self.connected && now >= self.next_send {
                self.send_audio(now);
                self.next_send = now + self.frame;
                continue;
            }
            if self.sending && self.connected && self.cam.is_some() && now >= self.next_video {
                self.send_video(now);
                self.next_video = now + Duration::from_millis(40);
                continue;
            }
            let mut wake = timeout.min(until);
            if self.sending && self.connected {
                wake = wake.min(self.next_send);
                if self.cam.is_some() {
                    wake = wake.min(self.next_video);
                }
            }
            let wait = wake
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            match tokio::time::timeout(wait, self.inbox.recv()).await {
                Ok(Some((proto, source, data))) => {
                    let Ok(contents) = data.as_slice().try_into() else {
                        continue;
                    };
                    let input = Input::Receive(
                        Instant::now(),
                        Receive {
                            proto,
                            source,
                            destination: self.local,
                            contents,
                        },
                    );
                    let _ = self.rtc.handle_input(input);
                }
                _ => {
                    let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                }
            }
        }
    }

    /// A stand-in VP8 frame on the camera line (a keyframe every 10th).
    fn send_video(&mut self, now: Instant) {
        let Some(cam) = self.cam else { return };
        let Some(w) = self.rtc.writer(cam) else {
            return;
        };
        let Some(pt) = w
            .payload_params()
            .find(|p| p.spec().codec == Codec::Vp8)
            .map(|p| p.pt())
        else {
            return;
        };
        let mut frame = vec![0x42u8; 1200];
        // VP8 frame tag: bit 0 clear marks a keyframe.
        frame[0] = if self.frames.is_multiple_of(10) {
            0x10
        } else {
            0x11
        };
        let rtp_time = MediaTime::new(self.frames * 3000, Frequency::NINETY_KHZ);
        self.frames += 1;
        let _ = w.write(pt, now, rtp_time, frame);
    }

    fn send_audio(&mut self, now: Instant) {
        let Some(mic) = self.mic else { return };
        let Some(w) = self.rtc.writer(mic) else {
            return;
        };
        let Some(pt) = w
            .payload_params()
            .find(|p| p.spec().codec == Codec::Opus)
            .map(|p| p.pt())
        else {
            return;
        };
        // 32 kbit/s, as Opus voice: 4 bytes a millisecond.
        let ms = self.frame.as_millis() as u64;
        let mut payload = vec![0x55u8; 4 * ms as usize];
        let stamp = now.duration_since(self.epoch).as_micros() as u64;
        payload[..8].copy_from_slice(&stamp.to_be_bytes());
        let rtp_time = MediaTime::new(self.sent * 48 * ms, Frequency::FORTY_EIGHT_KHZ);
        self.sent += 1;
        let _ = w
            .audio_level(self.level, self.level > -50)
            .write(pt, now, rtp_time, payload);
    }

    /// Sends what str0m wants sent; returns when it next needs time.
    async fn drain(&mut self) -> Instant {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => return t,
                Ok(Output::Transmit(t)) => match (t.proto, &self.udp, &mut self.tcp) {
                    (Protocol::Udp, Some(sock), _) => {
                        let _ = sock.send_to(&t.contents, t.destination).await;
                    }
                    (Protocol::Tcp, _, Some(w)) => {
                        let len = (t.contents.len() as u16).to_be_bytes();
                        let _ = w.write_all(&len).await;
                        let _ = w.write_all(&t.contents).await;
                    }
                    _ => {}
                },
                Ok(Output::Event(e)) => match e {
                    Event::Connected => self.connected = true,
                    Event::MediaData(d) => {
                        if self.video_mids.contains(&d.mid) {
                            if let Some(peer) = self.tracks.get(&d.mid) {
                                *self.received_video.entry(*peer).or_default() += 1;
                            }
                        } else if let Some(peer) = self.tracks.get(&d.mid) {
                            *self.received.entry(*peer).or_default() += 1;
                            let (first, last) = (**d.seq_range.start(), **d.seq_range.end());
                            if let Some(prev) = self.last_seq.insert(*peer, last) {
                                if first != prev + 1 {
                                    *self.gaps.entry(*peer).or_default() += 1;
                                }
                            }
                            if d.data.len() >= 8 {
                                let mut b = [0u8; 8];
                                b.copy_from_slice(&d.data[..8]);
                                let sent = u64::from_be_bytes(b);
                                let now =
                                    Instant::now().duration_since(self.epoch).as_micros() as u64;
                                self.delays_us.push(now.saturating_sub(sent));
                            }
                        }
                    }
                    _ => {}
                },
                Err(_) => return Instant::now() + Duration::from_millis(50),
            }
        }
    }
}
