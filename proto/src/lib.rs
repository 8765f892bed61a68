//! The contract shared by the credit-desk server and workstation.
//!
//! `pb` holds the generated gRPC types. The other modules are the no-I/O rules
//! both sides must agree on, so the client can check input locally with
//! exactly the code the server will run again.

pub mod calendar;
pub mod errors;
pub mod ident;
pub mod lang;
pub mod now;
pub mod periods;
pub mod validate;
pub mod words;

/// Generated protobuf messages, clients and servers of package `creditdesk.v1`.
#[allow(clippy::all)]
pub mod pb {
    tonic::include_proto!("creditdesk.v1");

    /// Encoded descriptors of every service, for gRPC server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/creditdesk_descriptor.bin"));
}

pub use lang::{LANG_METADATA_KEY, Lang};

/// gRPC metadata key carrying the session token, as the workstation sends
/// it. `authorization: Bearer …` works too (grpcurl and other tools), but
/// HTTP/2 never indexes `authorization`, so on a township link it costs
/// its ~45 bytes again on every call; this key is indexed after the first
/// call and then costs one byte. Indexing a secret is safe here: the
/// header compression context belongs to one workstation connection that
/// sends no header an attacker chooses (the CRIME-style attacks need one).
pub const SESSION_METADATA_KEY: &str = "session";
