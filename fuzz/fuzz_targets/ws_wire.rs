//! The websocket wire itself, below y-protocols: `plenum::realtime::socket::Frames`, which turns
//! the bytes a client sends into whole messages (RFC 6455 frames, masks, fragments, control
//! frames between fragments, size limits). Nothing may panic, and:
//! - how the bytes arrive (all at once, a byte at a time, any split) never changes what is
//!   parsed out of them: the same messages, then the same refusal;
//! - no message is larger than the limit, and once everything that arrived is parsed no buffer
//!   is held (an idle socket costs no memory);
//! - messages a well-behaved client frames (fragmented or not, pings in between) come out
//!   exactly as sent, and one over the limit is refused, not delivered.

#![no_main]

use arbitrary::Arbitrary;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use plenum::realtime::socket::{
    Frames, Incoming, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, Refusal, put_frame,
};

#[derive(Arbitrary, Debug)]
enum Message {
    /// A data message, in these fragments (one, or several), with a ping after fragment `ping_after`.
    Data {
        text: bool,
        fragments: Vec<Vec<u8>>,
        ping_after: Option<(u8, Vec<u8>)>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// The message limit, small so that the fuzzer reaches it.
    max: u16,
    /// How the stream is cut into reads: the length of each (cycled; 0 counts as 1).
    cuts: Vec<u8>,
    mask: [u8; 4],
    /// Either any bytes at all, or what a well-behaved client sends.
    stream: Stream,
}

#[derive(Arbitrary, Debug)]
enum Stream {
    Raw(Vec<u8>),
    Client(Vec<Message>),
}

/// Everything parsed out of `bytes`, pushed in reads of the given lengths, until the first
/// refusal; and whether a buffer is still held at the end. Checks the limit on every message.
fn parse(bytes: &[u8], cuts: &[u8], max: usize) -> ((Vec<Incoming>, Option<Refusal>), bool) {
    let mut frames = Frames::new(BytesMut::new(), max);
    let mut got = Vec::new();
    let mut rest = bytes;
    let mut cut = cuts.iter().cycle();
    while !rest.is_empty() {
        let n =
            if cuts.is_empty() { rest.len() } else { usize::from(*cut.next().expect("cycled")).clamp(1, rest.len()) };
        let (now, later) = rest.split_at(n);
        rest = later;
        frames.push(now);
        loop {
            match frames.next_message() {
                Ok(Some(message)) => {
                    if let Incoming::Binary(b) | Incoming::Text(b) = &message {
                        assert!(b.len() <= max, "a message of {} bytes passed a limit of {max}", b.len());
                    }
                    got.push(message);
                }
                Ok(None) => break,
                Err(refusal) => return ((got, Some(refusal)), frames.holds_buffer()),
            }
        }
    }
    ((got, None), frames.holds_buffer())
}

/// What a client frames for `messages`, and what the server must make of it.
fn client_stream(messages: &[Message], mask: [u8; 4], max: usize) -> (Vec<u8>, Vec<Incoming>, Option<Refusal>) {
    let mut out = BytesMut::new();
    let mut expected = Vec::new();
    let mut refused = None;
    for message in messages {
        match message {
            Message::Data { text, fragments, ping_after } => {
                let opcode = if *text { OP_TEXT } else { OP_BINARY };
                let fragments: Vec<&[u8]> =
                    if fragments.is_empty() { vec![&[][..]] } else { fragments.iter().map(Vec::as_slice).collect() };
                let mut whole = Vec::new();
                for (i, fragment) in fragments.iter().enumerate() {
                    let last = i + 1 == fragments.len();
                    put_frame(&mut out, last, if i == 0 { opcode } else { OP_CONTINUATION }, Some(mask), fragment);
                    whole.extend_from_slice(fragment);
                    if refused.is_none() && (fragment.len() > max || whole.len() > max) {
                        refused = Some(Refusal::TooBig);
                    }
                    if let Some((after, payload)) = ping_after
                        && usize::from(*after) == i
                        && !last
                    {
                        let payload = &payload[..payload.len().min(125)];
                        put_frame(&mut out, true, OP_PING, Some(mask), payload);
                        if refused.is_none() {
                            expected.push(Incoming::Ping(payload.to_vec().into()));
                        }
                    }
                }
                if refused.is_none() {
                    let whole = whole.into();
                    expected.push(if *text { Incoming::Text(whole) } else { Incoming::Binary(whole) });
                }
            }
            Message::Ping(payload) | Message::Pong(payload) => {
                let payload = &payload[..payload.len().min(125)];
                let is_ping = matches!(message, Message::Ping(_));
                put_frame(&mut out, true, if is_ping { OP_PING } else { OP_PONG }, Some(mask), payload);
                if refused.is_none() {
                    expected.push(if is_ping { Incoming::Ping(payload.to_vec().into()) } else { Incoming::Pong });
                }
            }
            Message::Close(code) => {
                let payload = code.map(u16::to_be_bytes);
                put_frame(&mut out, true, OP_CLOSE, Some(mask), payload.as_ref().map_or(&[][..], |p| &p[..]));
                if refused.is_none() {
                    expected.push(Incoming::Close(*code));
                }
            }
        }
    }
    (out.to_vec(), expected, refused)
}

fuzz_target!(|input: Input| {
    let max = usize::from(input.max);
    let (bytes, expected) = match &input.stream {
        Stream::Raw(bytes) => (bytes.clone(), None),
        Stream::Client(messages) => {
            let (bytes, messages, refused) = client_stream(messages, input.mask, max);
            (bytes, Some((messages, refused)))
        }
    };
    let (at_once, _) = parse(&bytes, &[], max);
    let (in_cuts, holds_buffer) = parse(&bytes, &input.cuts, max);
    assert_eq!(at_once, in_cuts, "the same bytes parsed differently when they arrived in other reads");
    if let Some(expected) = expected {
        assert_eq!(at_once, expected, "a well-framed client stream did not come out as sent");
        if at_once.1.is_none() {
            assert!(!holds_buffer, "everything arrived was parsed, yet a read buffer is still held");
        }
    }
});
