//! Protobuf conveniences over [`Bus`].

use std::time::Duration;

use async_trait::async_trait;

use crate::{Bus, BusError, Event, Message, PublishAck};

/// Decodes a protobuf payload received on `subject`.
///
/// # Errors
///
/// [`BusError::Decode`] when the payload is not a valid `T`.
pub fn decode<T: prost::Message + Default>(subject: &str, message: &Message) -> Result<T, BusError> {
    T::decode(message.payload.as_ref()).map_err(|source| BusError::Decode { subject: subject.to_owned(), source })
}

/// Typed publish and request for protobuf messages.
#[async_trait]
pub trait BusExt {
    /// Encodes and publishes an event.
    async fn publish_proto<E>(&self, subject: &str, dedup_id: &str, event: &E) -> Result<PublishAck, BusError>
    where
        E: prost::Message;

    /// Encodes a request, sends it and decodes the reply.
    async fn request_proto<Q, R>(&self, subject: &str, request: &Q, timeout: Duration) -> Result<R, BusError>
    where
        Q: prost::Message,
        R: prost::Message + Default;
}

#[async_trait]
impl<B: Bus + ?Sized> BusExt for B {
    async fn publish_proto<E>(&self, subject: &str, dedup_id: &str, event: &E) -> Result<PublishAck, BusError>
    where
        E: prost::Message,
    {
        self.publish(Event::new(subject, dedup_id, event.encode_to_vec())).await
    }

    async fn request_proto<Q, R>(&self, subject: &str, request: &Q, timeout: Duration) -> Result<R, BusError>
    where
        Q: prost::Message,
        R: prost::Message + Default,
    {
        let reply = self.request(subject, Message::new(request.encode_to_vec()), timeout).await?;
        decode(subject, &reply)
    }
}
