//! A websocket served straight on its upgraded TCP stream (RFC 6455, server side, no
//! extensions). An idle connection holds no buffer at all: a read buffer exists only while a
//! frame is arriving, and a batch of frames is written with one buffer that lives for that
//! write. (Keeping the HTTP dispatcher's fixed 8 KiB read and write buffers for the life of
//! every socket was two thirds of an idle connection's memory.)
//!
//! The handshake itself is answered by the HTTP layer (`http::upgrade`); this module
//! starts after the `101 Switching Protocols`.

use std::fmt;
use std::io;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// How much is read from the socket at a time.
const READ_CHUNK: usize = 4096;
/// After the close frame, how long the client gets to answer before the socket is dropped.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// A whole message from the client (fragments already put together).
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Binary(Bytes),
    Text(Bytes),
    Ping(Bytes),
    Pong,
    /// The client's close frame, with its status code if it gave one.
    Close(Option<u16>),
}

/// Why a client's frames were refused; the connection closes with a matching code.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A message (or a fragment, or what has arrived of one) is larger than allowed.
    TooBig,
    /// The frames break RFC 6455; the text says how.
    Protocol(&'static str),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TooBig => f.write_str("message too big"),
            Refusal::Protocol(what) => write!(f, "websocket protocol error: {what}"),
        }
    }
}

/// The server's end of one websocket.
pub struct Socket {
    io: TcpStream,
    frames: Frames,
}

/// The client's side of the stream as it arrives: bytes read and not yet parsed, and a
/// fragmented message being put together. No I/O, so that it can be tested and fuzzed alone.
pub struct Frames {
    /// Bytes read and not yet parsed. Empty, with no allocation, between messages.
    read: BytesMut,
    max_message: usize,
    /// A fragmented message being put together: its opcode and its bytes so far.
    partial: Option<(u8, BytesMut)>,
}

impl Socket {
    /// `already_read`: what the HTTP layer read past the handshake (a client may send its first
    /// frames at once). Messages larger than `max_message` bytes are refused.
    pub fn new(io: TcpStream, already_read: BytesMut, max_message: usize) -> Self {
        Self { io, frames: Frames::new(already_read, max_message) }
    }

    /// The next message, `None` once the connection is gone (closed, reset, or ended without a
    /// close frame). Cancel-safe: dropped between polls, it loses nothing, so it can sit in a
    /// `select!` beside the writes.
    pub async fn recv(&mut self) -> Option<Result<Incoming, Refusal>> {
        loop {
            match self.frames.next_message() {
                Ok(Some(message)) => return Some(Ok(message)),
                Ok(None) => {}
                Err(refusal) => return Some(Err(refusal)),
            }
            if self.io.readable().await.is_err() {
                return None;
            }
            let read = &mut self.frames.read;
            if read.capacity() - read.len() < READ_CHUNK / 4 {
                read.reserve(READ_CHUNK);
            }
            match self.io.try_read_buf(read) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return None,
            }
        }
    }

    /// Writes these binary messages, one frame each, in one write.
    pub async fn send_binary<'a>(&mut self, messages: impl IntoIterator<Item = &'a Bytes> + Clone) -> io::Result<()> {
        // Sized once, as `put_frame` reserves, so the batch is never copied to grow.
        let size = messages.clone().into_iter().map(|m| m.len() + MAX_FRAME_HEADER).sum();
        let mut out = BytesMut::with_capacity(size);
        for message in messages {
            put_frame(&mut out, true, OP_BINARY, None, message);
        }
        self.io.write_all(&out).await
    }

    /// Writes one text message.
    pub async fn send_text(&mut self, text: &str) -> io::Result<()> {
        self.send(OP_TEXT, text.as_bytes()).await
    }

    pub async fn ping(&mut self, payload: &[u8]) -> io::Result<()> {
        self.send(OP_PING, payload).await
    }

    pub async fn pong(&mut self, payload: &[u8]) -> io::Result<()> {
        self.send(OP_PONG, payload).await
    }

    async fn send(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let mut out = BytesMut::new();
        put_frame(&mut out, true, opcode, None, payload);
        self.io.write_all(&out).await
    }

    /// Sends a close frame (with `code` and at most 123 bytes of `reason`, or none), ends the
    /// sending side, and lets the client answer for a moment before the socket is dropped:
    /// closing with unread bytes would reset the connection and could lose the close frame.
    pub async fn close(mut self, reason: Option<(u16, &str)>) {
        let mut payload = Vec::new();
        if let Some((code, text)) = reason {
            payload.extend_from_slice(&code.to_be_bytes());
            payload.extend_from_slice(truncate(text, 123).as_bytes());
        }
        if self.send(OP_CLOSE, &payload).await.is_err() || self.io.shutdown().await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(CLOSE_LINGER, async {
            let mut sink = [0u8; 512];
            loop {
                if self.io.readable().await.is_err() {
                    return;
                }
                match self.io.try_read(&mut sink) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return,
                }
            }
        })
        .await;
    }
}

impl Frames {
    /// `already_read`: bytes that arrived before the first parse. Messages larger than
    /// `max_message` bytes are refused.
    pub fn new(already_read: BytesMut, max_message: usize) -> Self {
        // The HTTP layer's read buffer is 8 KiB: keep it only while it holds something.
        let read = if already_read.is_empty() { BytesMut::new() } else { already_read };
        Self { read, max_message, partial: None }
    }

    /// Adds bytes as they came off the wire (the socket reads straight into the buffer).
    pub fn push(&mut self, bytes: &[u8]) {
        self.read.extend_from_slice(bytes);
    }

    /// Whether a buffer is held (none should be while the client is quiet).
    pub fn holds_buffer(&self) -> bool {
        self.read.capacity() > 0
    }

    /// The next whole message from what has arrived, if it is all there. Once everything that
    /// arrived is parsed, the read buffer is given back, so a quiet client costs none.
    pub fn next_message(&mut self) -> Result<Option<Incoming>, Refusal> {
        let next = self.parse_message();
        // An empty buffer holds no part of a frame (a frame leaves it only once whole).
        if self.read.is_empty() {
            self.read = BytesMut::new();
        }
        next
    }

    fn parse_message(&mut self) -> Result<Option<Incoming>, Refusal> {
        loop {
            let Some((fin, opcode, payload)) = parse_frame(&mut self.read, self.max_message)? else {
                return Ok(None);
            };
            match opcode {
                OP_PING => return Ok(Some(Incoming::Ping(payload.freeze()))),
                OP_PONG => return Ok(Some(Incoming::Pong)),
                OP_CLOSE => {
                    let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    return Ok(Some(Incoming::Close(code)));
                }
                OP_TEXT | OP_BINARY if self.partial.is_some() => {
                    return Err(Refusal::Protocol("a new message began inside a fragmented one"));
                }
                OP_TEXT | OP_BINARY if !fin => self.partial = Some((opcode, payload)),
                OP_TEXT | OP_BINARY => return Ok(Some(whole(opcode, payload.freeze()))),
                OP_CONTINUATION => {
                    let Some((first, mut so_far)) = self.partial.take() else {
                        return Err(Refusal::Protocol("a continuation frame with no message to continue"));
                    };
                    if so_far.len() + payload.len() > self.max_message {
                        return Err(Refusal::TooBig);
                    }
                    so_far.extend_from_slice(&payload);
                    if fin {
                        return Ok(Some(whole(first, so_far.freeze())));
                    }
                    self.partial = Some((first, so_far));
                }
                _ => return Err(Refusal::Protocol("unknown opcode")),
            }
        }
    }
}

fn whole(opcode: u8, payload: Bytes) -> Incoming {
    if opcode == OP_TEXT { Incoming::Text(payload) } else { Incoming::Binary(payload) }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Appends one frame: unmasked as a server sends it, or, given a mask, as a client must (the
/// load bench and the fuzz targets play the client).
pub fn put_frame(out: &mut BytesMut, fin: bool, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) {
    out.reserve(payload.len() + MAX_FRAME_HEADER);
    out.put_u8(if fin { 0x80 } else { 0 } | opcode);
    let masked = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.put_u8(masked | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.put_u8(masked | 126);
            out.put_u16(n as u16);
        }
        n => {
            out.put_u8(masked | 127);
            out.put_u64(n as u64);
        }
    }
    match mask {
        None => out.put_slice(payload),
        Some(mask) => {
            out.put_slice(&mask);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        }
    }
}

/// The longest frame header: two bytes, an eight-byte length and a four-byte mask.
const MAX_FRAME_HEADER: usize = 14;

/// Takes the next whole client frame off the front of `buf`: `(fin, opcode, unmasked payload)`,
/// or `None` if it has not all arrived (room for it is reserved). A data frame claiming more
/// than `max` bytes is refused from its header, before any of its payload is read.
fn parse_frame(buf: &mut BytesMut, max: usize) -> Result<Option<(bool, u8, BytesMut)>, Refusal> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (first, second) = (buf[0], buf[1]);
    if first & 0x70 != 0 {
        return Err(Refusal::Protocol("reserved bits set, but no extension was agreed"));
    }
    if second & 0x80 == 0 {
        return Err(Refusal::Protocol("a client frame that is not masked"));
    }
    let (fin, opcode) = (first & 0x80 != 0, first & 0x0F);
    let (header, len) = match second & 0x7F {
        126 if buf.len() < 4 => return Ok(None),
        126 => (4, u64::from(u16::from_be_bytes([buf[2], buf[3]]))),
        127 if buf.len() < 10 => return Ok(None),
        127 => (10, u64::from_be_bytes(buf[2..10].try_into().expect("eight bytes"))),
        n => (2, u64::from(n)),
    };
    if opcode >= OP_CLOSE && (!fin || len > 125) {
        return Err(Refusal::Protocol("a control frame that is fragmented or longer than 125 bytes"));
    }
    // The limit is on messages; a control frame's own limit (125 bytes) was checked above.
    let len = usize::try_from(len).ok().filter(|&n| n <= max || opcode >= OP_CLOSE).ok_or(Refusal::TooBig)?;
    let total = header + 4 + len;
    if buf.len() < total {
        buf.reserve(total - buf.len());
        return Ok(None);
    }
    let mask: [u8; 4] = buf[header..header + 4].try_into().expect("four bytes");
    buf.advance(header + 4);
    let mut payload = buf.split_to(len);
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= mask[i % 4];
    }
    Ok(Some((fin, opcode, payload)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame as a browser would send it.
    fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        put_frame(&mut out, fin, opcode, Some([0x37, 0xfa, 0x21, 0x3d]), payload);
        out.to_vec()
    }

    #[test]
    fn frames_parse_only_once_whole_and_unmasked() {
        for size in [0, 5, 125, 126, 65535, 65536, 70000] {
            let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let frame = client_frame(true, OP_BINARY, &payload);
            let mut buf = BytesMut::from(&frame[..frame.len() - 1]);
            assert_eq!(parse_frame(&mut buf, 1 << 20), Ok(None), "size {size}: incomplete");
            buf.extend_from_slice(&frame[frame.len() - 1..]);
            let (fin, op, got) = parse_frame(&mut buf, 1 << 20).unwrap().unwrap();
            assert!(fin && op == OP_BINARY && got[..] == payload[..], "size {size}");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn a_stream_cut_anywhere_parses_the_same() {
        let mut stream = client_frame(false, OP_TEXT, "hé".as_bytes());
        stream.extend(client_frame(true, OP_PING, b"are you there"));
        stream.extend(client_frame(true, OP_CONTINUATION, "llo".as_bytes()));
        stream.extend(client_frame(true, OP_BINARY, &[9u8; 300]));
        stream.extend(client_frame(true, OP_CLOSE, &1001u16.to_be_bytes()));
        let expected = vec![
            Incoming::Ping(Bytes::from_static(b"are you there")),
            Incoming::Text(Bytes::from("héllo")),
            Incoming::Binary(Bytes::from(vec![9u8; 300])),
            Incoming::Close(Some(1001)),
        ];
        for cut in 0..=stream.len() {
            let mut frames = Frames::new(BytesMut::new(), 1000);
            let mut got = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                frames.push(part);
                while let Some(message) = frames.next_message().unwrap() {
                    got.push(message);
                }
            }
            assert_eq!(got, expected, "cut at {cut}");
            assert!(!frames.holds_buffer(), "cut at {cut}: everything parsed, yet a buffer is held");
        }
    }

    #[test]
    fn a_frame_too_big_is_refused_from_its_header() {
        let frame = client_frame(true, OP_BINARY, &vec![7u8; 2000]);
        let mut buf = BytesMut::from(&frame[..10]);
        assert_eq!(parse_frame(&mut buf, 1000), Err(Refusal::TooBig));
        // A length no machine could hold: refused, not allocated.
        let mut huge = BytesMut::from(&[0x82, 0xFF, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..]);
        assert_eq!(parse_frame(&mut huge, 1 << 20), Err(Refusal::TooBig));
    }

    #[test]
    fn unmasked_reserved_and_long_control_frames_are_protocol_errors() {
        let mut unmasked = BytesMut::from(&[0x82, 0x01, 0x00][..]);
        assert!(matches!(parse_frame(&mut unmasked, 100), Err(Refusal::Protocol(_))));
        let mut reserved = BytesMut::from(&client_frame(true, OP_BINARY | 0x40, b"x")[..]);
        assert!(matches!(parse_frame(&mut reserved, 100), Err(Refusal::Protocol(_))));
        let mut long_ping = BytesMut::from(&client_frame(true, OP_PING, &[0; 126])[..]);
        assert!(matches!(parse_frame(&mut long_ping, 1000), Err(Refusal::Protocol(_))));
        let mut split_ping = BytesMut::from(&client_frame(false, OP_PING, b"")[..]);
        assert!(matches!(parse_frame(&mut split_ping, 1000), Err(Refusal::Protocol(_))));
    }

    #[test]
    fn the_message_limit_does_not_apply_to_control_frames() {
        // Found by fuzz/ws_wire: a close frame with its status code, under a limit of 0 bytes.
        let mut close = BytesMut::from(&client_frame(true, OP_CLOSE, &1000u16.to_be_bytes())[..]);
        assert_eq!(parse_frame(&mut close, 0).unwrap().map(|(_, op, p)| (op, p.len())), Some((OP_CLOSE, 2)));
        let mut ping = BytesMut::from(&client_frame(true, OP_PING, &[1; 125])[..]);
        assert_eq!(parse_frame(&mut ping, 8).unwrap().map(|(_, op, p)| (op, p.len())), Some((OP_PING, 125)));
    }

    #[test]
    fn server_frames_have_the_shortest_length_form() {
        for (size, header) in [(0usize, 2usize), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let mut out = BytesMut::new();
            put_frame(&mut out, true, OP_BINARY, None, &vec![1u8; size]);
            assert_eq!(out.len(), header + size, "size {size}");
            assert_eq!(out[0], 0x82);
            assert_eq!(out[1] & 0x80, 0, "server frames are not masked");
        }
    }

    #[test]
    fn close_reasons_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("abc", 123), "abc");
        let long = "é".repeat(100);
        let cut = truncate(&long, 123);
        assert_eq!(cut.len(), 122);
    }

    /// A connected pair: the server's [`Socket`] and the client's raw stream.
    async fn pair(max: usize) -> (Socket, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (Socket::new(server, BytesMut::new(), max), client)
    }

    #[tokio::test]
    async fn fragments_come_together_and_control_frames_pass_between_them() {
        let (mut socket, mut client) = pair(1000).await;
        let mut bytes = client_frame(false, OP_BINARY, b"hel");
        bytes.extend(client_frame(true, OP_PING, b"p"));
        bytes.extend(client_frame(false, OP_CONTINUATION, b"lo "));
        bytes.extend(client_frame(true, OP_CONTINUATION, b"world"));
        bytes.extend(client_frame(true, OP_CLOSE, &1000u16.to_be_bytes()));
        client.write_all(&bytes).await.unwrap();
        assert_eq!(socket.recv().await, Some(Ok(Incoming::Ping(Bytes::from_static(b"p")))));
        assert_eq!(socket.recv().await, Some(Ok(Incoming::Binary(Bytes::from_static(b"hello world")))));
        assert_eq!(socket.recv().await, Some(Ok(Incoming::Close(Some(1000)))));
        assert!(!socket.frames.holds_buffer(), "a quiet socket holds no buffer");
        drop(client);
        assert_eq!(socket.recv().await, None);
    }

    #[tokio::test]
    async fn fragments_together_larger_than_allowed_are_refused() {
        let (mut socket, mut client) = pair(8).await;
        let mut bytes = client_frame(false, OP_BINARY, b"12345");
        bytes.extend(client_frame(true, OP_CONTINUATION, b"6789"));
        client.write_all(&bytes).await.unwrap();
        assert_eq!(socket.recv().await, Some(Err(Refusal::TooBig)));
    }

    #[tokio::test]
    async fn a_continuation_out_of_place_is_refused() {
        let (mut socket, mut client) = pair(100).await;
        client.write_all(&client_frame(true, OP_CONTINUATION, b"x")).await.unwrap();
        assert!(matches!(socket.recv().await, Some(Err(Refusal::Protocol(_)))));
    }

    #[tokio::test]
    async fn close_sends_the_code_and_reason_then_ends_the_stream() {
        let (socket, mut client) = pair(100).await;
        let closing = tokio::spawn(socket.close(Some((4000, "too slow"))));
        let mut got = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut client, &mut got).await.unwrap();
        assert_eq!(got[0], 0x88);
        assert_eq!(usize::from(got[1]), 2 + "too slow".len());
        assert_eq!(&got[2..4], &4000u16.to_be_bytes());
        assert_eq!(&got[4..], b"too slow");
        drop(client);
        closing.await.unwrap();
    }
}
