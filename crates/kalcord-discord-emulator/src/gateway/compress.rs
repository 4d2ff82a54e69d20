//! `compress=zlib-stream`: one zlib context per connection, each message ends with a sync flush (`00 00 ff ff`).

use flate2::{Compress, Compression, FlushCompress};

/// The connection's compression context.
pub(crate) struct ZlibStream {
    context: Compress,
}

impl std::fmt::Debug for ZlibStream {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ZlibStream").field("total_in", &self.context.total_in()).finish()
    }
}

impl ZlibStream {
    pub(crate) fn new() -> Self {
        Self { context: Compress::new(Compression::default(), true) }
    }

    /// Compresses one gateway message and flushes (the output ends with `00 00 ff ff`).
    pub(crate) fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        let start = self.context.total_in();
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        loop {
            let consumed = usize::try_from(self.context.total_in() - start).unwrap_or(data.len()).min(data.len());
            if out.capacity() - out.len() < 64 {
                out.reserve(data.len() / 2 + 1024);
            }
            if self.context.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync).is_err() {
                break;
            }
            let consumed = usize::try_from(self.context.total_in() - start).unwrap_or(data.len());
            if consumed >= data.len() && out.len() < out.capacity() {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn stream_messages_inflate_in_one_context() {
        let hello = br#"{"op":10,"d":{"heartbeat_interval":41250}}"#;
        let mut stream = ZlibStream::new();
        let first = stream.compress(hello);
        let second = stream.compress(&vec![b'x'; 50_000]);
        assert!(first.ends_with(&[0, 0, 0xff, 0xff]));
        assert!(second.ends_with(&[0, 0, 0xff, 0xff]));
        let mut inflate = flate2::write::ZlibDecoder::new(Vec::new());
        inflate.write_all(&first).expect("first");
        inflate.flush().expect("flush");
        assert_eq!(inflate.get_ref().as_slice(), hello);
        inflate.write_all(&second).expect("second");
        inflate.flush().expect("flush");
        assert_eq!(inflate.get_ref().len(), hello.len() + 50_000);
    }
}
