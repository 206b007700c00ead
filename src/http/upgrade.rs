//! Websocket upgrades on the raw connection. A request asking to upgrade goes through the same
//! application (routes, extractors, middleware, authorisation) as any other; a handler that
//! accepts it answers with [`websocket`], whose `101` carries what to run on the socket. The
//! server then writes that `101` itself and hands the bare TCP stream to it, leaving HTTP
//! behind: no dispatcher, no fixed buffers, no channel between the handler's task and the
//! socket (see [`crate::realtime::socket`]). Any other answer is written as usual and the
//! connection closed after it.

use std::future::Future;
use std::rc::Rc;

use actix_codec::Framed;
use actix_http::body::{BodySize, MessageBody};
use actix_http::{ConnectionType, Request, Response, StatusCode, h1};
use actix_web::dev::Service;
use actix_web::{HttpRequest, HttpResponse};
use bytes::BytesMut;
use futures_util::SinkExt;
use futures_util::future::LocalBoxFuture;
use tokio::net::TcpStream;

use super::error::ApiError;
use crate::realtime::socket::Socket;

/// What runs on the socket once the `101` is written; travels in the response's extensions.
struct Handoff(Box<dyn FnOnce(TcpStream, BytesMut) -> LocalBoxFuture<'static, ()>>);

/// The answer of a handler that accepts a websocket handshake: `101 Switching Protocols`,
/// then `run` on the socket (messages above `max_message` bytes are refused). A request that
/// is not a valid handshake gets a 400 saying why.
pub fn websocket<F, Fut>(req: &HttpRequest, max_message: usize, run: F) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(Socket) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let mut response = actix_http::ws::handshake(req.head())
        .map_err(|e| ApiError::BadRequest(format!("not a websocket upgrade: {e}")))?
        .finish()
        .map_into_boxed_body();
    response
        .extensions_mut()
        .insert(Handoff(Box::new(move |io, already_read| Box::pin(run(Socket::new(io, already_read, max_message))))));
    Ok(HttpResponse::from(response))
}

/// Serves one request that asked to upgrade the connection: through `app`, then either the
/// handed-off socket or the ordinary response and the end of the connection.
pub async fn serve<S, B>(
    app: Rc<S>,
    req: Request,
    mut framed: Framed<TcpStream, h1::Codec>,
) -> Result<(), actix_web::Error>
where
    S: Service<Request, Error = actix_web::Error>,
    S::Response: Into<Response<B>>,
    B: MessageBody + 'static,
{
    let mut response = match app.call(req).await {
        Ok(response) => response.into().map_into_boxed_body(),
        Err(err) => Response::from(err),
    };
    let handoff = response.extensions_mut().remove::<Handoff>();
    let (mut head, body) = response.into_parts();
    match handoff {
        Some(Handoff(run)) if head.status() == StatusCode::SWITCHING_PROTOCOLS => {
            if let Err(err) = framed.send(h1::Message::Item((head, BodySize::None))).await {
                tracing::debug!(%err, "the websocket handshake could not be written");
                return Ok(());
            }
            drop(body);
            // Keep only the stream and what was read past the handshake: the HTTP buffers
            // (the write buffer alone is 8 KiB) would otherwise live as long as the socket.
            let mut parts = framed.into_parts();
            let already_read = std::mem::take(&mut parts.read_buf);
            parts.write_buf = BytesMut::new();
            run(parts.io, already_read).await;
        }
        _ => {
            let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
            head.head_mut().set_connection_type(ConnectionType::Close);
            let written = async {
                framed.send(h1::Message::Item((head, BodySize::Sized(bytes.len() as u64)))).await?;
                if !bytes.is_empty() {
                    framed.send(h1::Message::Chunk(Some(bytes))).await?;
                }
                framed.send(h1::Message::Chunk(None)).await
            };
            if let Err(err) = written.await {
                tracing::debug!(%err, "an answer to an upgrade request could not be written");
            }
        }
    }
    Ok(())
}
