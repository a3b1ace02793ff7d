//! A WebRTC participant written with str0m, for server tests and the calls benchmark: it
//! answers the media server's offers, sends 20 ms audio packets on its microphone line and
//! counts what arrives from each other participant. Every packet carries the instant it was
//! sent, so a receiver in the same process measures the forwarding delay.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{Frequency, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;

pub struct RtcClient {
    pub rtc: Rtc,
    sock: UdpSocket,
    local: SocketAddr,
    pub mic: Option<Mid>,
    /// Mid → the peer whose stream it carries.
    pub tracks: HashMap<Mid, u64>,
    /// Audio packets received per sending peer.
    pub received: HashMap<u64, u64>,
    /// One-way delays seen (sender's send to receiver's arrival), in microseconds.
    pub delays_us: Vec<u64>,
    pub connected: bool,
    epoch: Instant,
    sent: u64,
    next_send: Instant,
    pub sending: bool,
    buf: Vec<u8>,
}

impl RtcClient {
    /// `epoch` must be shared by every client of one process for delays to mean anything.
    pub async fn new(epoch: Instant) -> RtcClient {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let local = sock.local_addr().unwrap();
        let mut rtc = Rtc::builder()
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        RtcClient {
            rtc,
            sock,
            local,
            mic: None,
            tracks: HashMap::new(),
            received: HashMap::new(),
            delays_us: Vec::new(),
            connected: false,
            epoch,
            sent: 0,
            next_send: Instant::now(),
            sending: true,
            buf: vec![0; 2000],
        }
    }

    /// Answers a `call_offer` frame; returns the answer SDP.
    pub fn accept(&mut self, offer: &Value) -> String {
        let sdp = SdpOffer::from_sdp_string(offer["sdp"].as_str().unwrap()).unwrap();
        let answer = self.rtc.sdp_api().accept_offer(sdp).unwrap();
        self.mic = offer["mic_mid"].as_str().map(Mid::from);
        self.tracks = offer["tracks"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(mid, t)| (Mid::from(mid.as_str()), t["peer"].as_u64().unwrap()))
            .collect();
        answer.to_sdp_string()
    }

    /// Runs the connection until `until`: sends audio every 20 ms while `sending`.
    pub async fn run_until(&mut self, until: Instant) {
        loop {
            let timeout = self.drain().await;
            let now = Instant::now();
            if now >= until {
                return;
            }
            if self.sending && self.connected && now >= self.next_send {
                self.send_audio(now);
                self.next_send = now + Duration::from_millis(20);
                continue;
            }
            let mut wake = timeout.min(until);
            if self.sending && self.connected {
                wake = wake.min(self.next_send);
            }
            let wait = wake
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            match tokio::time::timeout(wait, self.sock.recv_from(&mut self.buf)).await {
                Ok(Ok((n, source))) => {
                    let Ok(contents) = self.buf[..n].try_into() else {
                        continue;
                    };
                    let input = Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Udp,
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
        let mut payload = vec![0x55u8; 80];
        let stamp = now.duration_since(self.epoch).as_micros() as u64;
        payload[..8].copy_from_slice(&stamp.to_be_bytes());
        let rtp_time = MediaTime::new(self.sent * 960, Frequency::FORTY_EIGHT_KHZ);
        self.sent += 1;
        let _ = w.audio_level(-20, true).write(pt, now, rtp_time, payload);
    }

    /// Sends what str0m wants sent; returns when it next needs time.
    async fn drain(&mut self) -> Instant {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => return t,
                Ok(Output::Transmit(t)) => {
                    let _ = self.sock.send_to(&t.contents, t.destination).await;
                }
                Ok(Output::Event(e)) => match e {
                    Event::Connected => self.connected = true,
                    Event::MediaData(d) => {
                        if let Some(peer) = self.tracks.get(&d.mid) {
                            *self.received.entry(*peer).or_default() += 1;
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
