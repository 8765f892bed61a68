//! Compiles the `.proto` files with `protox` (pure Rust, so no system `protoc`
//! is needed) and hands the descriptors to tonic's code generator. The encoded
//! descriptor set is also written out so the server can offer reflection.
use prost::Message;
use std::path::PathBuf;

const FILES: &[&str] = &[
    "creditdesk/v1/common.proto",
    "creditdesk/v1/auth.proto",
    "creditdesk/v1/admin.proto",
    "creditdesk/v1/identity.proto",
    "creditdesk/v1/intake.proto",
    "creditdesk/v1/consent.proto",
    "creditdesk/v1/query.proto",
    "creditdesk/v1/objection.proto",
    "creditdesk/v1/supervision.proto",
    "creditdesk/v1/complaint.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(FILES, ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("creditdesk_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
