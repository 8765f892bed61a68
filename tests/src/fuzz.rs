//! What the fuzz driver (`src/bin/fuzz.rs`) and the regression corpus test
//! (`tests/fuzz_corpus.rs`) share: the parsers under test, input mutation,
//! protobuf messages generated from the service descriptors (so a new RPC
//! is fuzzed without anyone listing it), and raw gRPC calls that send any
//! bytes to any method.

use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::{Buf, BufMut};
use credit_desk_proto::{Lang, calendar, ident, validate};
use credit_desk_server::intake::{rows, table, templates};
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};
use rand::Rng;
use rand::rngs::StdRng;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

/// The pure parsers a client's input reaches, by name (the corpus folders).
pub const PARSERS: &[&str] = &["ident", "calendar", "validate", "intake_csv", "intake_xlsx"];

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("a date")
}

/// Runs one input through a parser; `Err` with the panic message if it
/// panicked. Refusals are the parsers' business, not failures.
pub fn parse_one(parser: &str, input: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(input);
    catch_unwind(AssertUnwindSafe(|| match parser {
        "ident" => {
            let _ = ident::check_any(&text, today());
            let _ = ident::person(&text, today());
            let _ = ident::organisation(&text);
            let _ = ident::mask(&text);
            let _ = validate::names_match(&text, "李建国");
        }
        "calendar" => {
            if let Ok(days) = calendar::parse_csv(&text) {
                let years: Vec<i32> = days
                    .iter()
                    .map(|d| chrono::Datelike::year(&d.date))
                    .collect();
                let cal = calendar::Calendar::new(years, &days);
                for d in &days {
                    let _ = cal.add_working_days(d.date, 10);
                }
            }
        }
        "validate" => {
            let _ = validate::free_text("f", &text, 40, true);
            let _ = validate::cursor(&text);
            let _ = validate::username(&text);
            let _ = validate::new_password("f", &text, "counter");
            let _ = validate::phone("f", &text);
            let _ = validate::purpose_code(&text);
            let _ = validate::unit_code(&text);
            let _ = validate::canonical_uuid("f", &text);
            let _ = validate::display_name(&text);
        }
        "intake_csv" | "intake_xlsx" => {
            let name = if parser == "intake_csv" {
                "f.csv"
            } else {
                "f.xlsx"
            };
            if let Ok(t) = table::read(name, input) {
                let categories = [rows::Category {
                    code: "court_judgment".into(),
                    name_zh: "法院判决与执行".into(),
                    negative: true,
                }];
                for dept in ["D-COURT", "D-TAX", "D-OTHER"] {
                    let template = templates::for_department(dept);
                    let _ = rows::missing_columns(&t, template);
                    let _ = rows::parse(&t, template, &categories, today(), Lang::Zh);
                }
            }
        }
        other => panic!("no parser {other}"),
    }))
    .map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

/// Byte-level mutations: flips, insertions of interesting bytes, cuts,
/// repeats and splices, one to four per input.
pub fn mutate(rng: &mut StdRng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    const INTERESTING: &[&[u8]] = &[
        b"\0",
        b"\x1b[2J",
        b"\xff",
        b"\xe4\xb8\xad",
        b",",
        b"\n",
        b"\"",
        b"%",
        b"_",
        b"\\",
        b"-",
        b"0",
        b"9",
        b"X",
        b"x",
        b"9999-99-99",
        b"2026-02-29",
        b"\r\n",
        b"\xef\xbb\xbf",
    ];
    let mut v = seed.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let at = if v.is_empty() {
            0
        } else {
            rng.random_range(0..=v.len())
        };
        match rng.random_range(0..7) {
            0 if at < v.len() => v[at] ^= 1 << rng.random_range(0..8),
            1 if at < v.len() => v[at] = rng.random(),
            2 => {
                let bytes = INTERESTING[rng.random_range(0..INTERESTING.len())];
                v.splice(at..at, bytes.iter().copied());
            }
            3 if at < v.len() => {
                let end = (at + rng.random_range(1..=16)).min(v.len());
                v.drain(at..end);
            }
            4 => v.truncate(at),
            5 if at < v.len() => {
                let end = (at + rng.random_range(1..=32)).min(v.len());
                let piece = v[at..end].to_vec();
                for _ in 0..rng.random_range(1..=8) {
                    v.splice(at..at, piece.iter().copied());
                }
            }
            _ if !other.is_empty() => {
                let from = rng.random_range(0..other.len());
                let end = (from + rng.random_range(1..=64)).min(other.len());
                v.splice(at..at, other[from..end].iter().copied());
            }
            _ => {}
        }
    }
    v
}

/// A gRPC method as the descriptors describe it.
#[derive(Debug, Clone)]
pub struct Method {
    /// `/creditdesk.v1.Identity/Verify`
    pub path: String,
    /// `.creditdesk.v1.VerifyRequest`
    pub input: String,
    pub server_streaming: bool,
}

/// Every method of every service, and the message types by full name.
pub struct Schema {
    pub methods: Vec<Method>,
    messages: std::collections::HashMap<String, DescriptorProto>,
}

impl Schema {
    pub fn load() -> Schema {
        let fds = FileDescriptorSet::decode(credit_desk_proto::pb::FILE_DESCRIPTOR_SET)
            .expect("the compiled descriptors decode");
        let mut methods = Vec::new();
        let mut messages = std::collections::HashMap::new();
        fn add(
            prefix: &str,
            m: &DescriptorProto,
            out: &mut std::collections::HashMap<String, DescriptorProto>,
        ) {
            let name = format!("{prefix}.{}", m.name());
            for nested in &m.nested_type {
                add(&name, nested, out);
            }
            out.insert(name, m.clone());
        }
        for file in &fds.file {
            let package = format!(".{}", file.package());
            for m in &file.message_type {
                add(&package, m, &mut messages);
            }
            for s in &file.service {
                for m in &s.method {
                    methods.push(Method {
                        path: format!("/{}.{}/{}", file.package(), s.name(), m.name()),
                        input: m.input_type().to_string(),
                        server_streaming: m.server_streaming(),
                    });
                }
            }
        }
        Schema { methods, messages }
    }

    /// A random message of type `name`: each field present or not, any
    /// value of its type — mostly from `dict` for strings, extremes for
    /// numbers — and nested messages to a small depth.
    pub fn message(&self, rng: &mut StdRng, name: &str, dict: &Dictionary, depth: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let Some(m) = self.messages.get(name) else {
            return out;
        };
        for f in &m.field {
            if rng.random_bool(0.3) {
                continue;
            }
            let n = if f.label() == Label::Repeated {
                rng.random_range(0..=3)
            } else {
                1
            };
            for _ in 0..n {
                let number = f.number() as u64;
                match f.r#type() {
                    Type::String => {
                        key(&mut out, number, 2);
                        bytes_field(&mut out, dict.string(rng, f.name()).as_bytes());
                    }
                    Type::Bytes => {
                        key(&mut out, number, 2);
                        bytes_field(&mut out, &dict.file(rng));
                    }
                    Type::Message if depth < 4 => {
                        let inner = self.message(rng, f.type_name(), dict, depth + 1);
                        key(&mut out, number, 2);
                        bytes_field(&mut out, &inner);
                    }
                    Type::Message | Type::Group => {}
                    Type::Double | Type::Fixed64 | Type::Sfixed64 => {
                        key(&mut out, number, 1);
                        out.extend_from_slice(&rng.random::<u64>().to_le_bytes());
                    }
                    Type::Float | Type::Fixed32 | Type::Sfixed32 => {
                        key(&mut out, number, 5);
                        out.extend_from_slice(&rng.random::<u32>().to_le_bytes());
                    }
                    Type::Bool => {
                        key(&mut out, number, 0);
                        varint(&mut out, rng.random_range(0..=1));
                    }
                    // Varints: int32/64, uint32/64, sint32/64, enum.
                    _ => {
                        key(&mut out, number, 0);
                        varint(&mut out, interesting_int(rng) as u64);
                    }
                }
            }
        }
        out
    }
}

fn interesting_int(rng: &mut StdRng) -> i64 {
    const VALUES: &[i64] = &[
        0,
        1,
        2,
        3,
        -1,
        7,
        100,
        255,
        65_535,
        i32::MAX as i64,
        i32::MIN as i64,
        i64::MAX,
        i64::MIN,
        i64::MIN + 1,
        1_795_395_600_000,
        -1_795_395_600_000,
        86_400_000,
    ];
    if rng.random_bool(0.8) {
        VALUES[rng.random_range(0..VALUES.len())]
    } else {
        rng.random()
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, number: u64, wire: u64) {
    varint(out, (number << 3) | wire);
}

fn bytes_field(out: &mut Vec<u8>, b: &[u8]) {
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Strings worth sending: real ids and codes of the database under test
/// (so requests reach past the first check), and hostile text.
#[derive(Default)]
pub struct Dictionary {
    pub real: Vec<String>,
    pub files: Vec<Vec<u8>>,
}

impl Dictionary {
    fn string(&self, rng: &mut StdRng, field: &str) -> String {
        const HOSTILE: &[&str] = &[
            "",
            " ",
            "\0",
            "\u{1b}[2J\u{1b}]0;owned\u{7}",
            "%",
            "_",
            "\\",
            "' OR 1=1 --",
            "'); DROP TABLE subjects; --",
            "441284196508120010",
            "44128419650812001X",
            "91440300MA5XXXXXX1",
            "2026-02-30",
            "2026-11-23",
            "9999-12-31",
            "0000-01-01",
            "00000000-0000-0000-0000-000000000000",
            "{019A0000-0000-7000-8000-000000000000}",
            "urn:uuid:019a0000-0000-7000-8000-000000000000",
            "李建国",
            "𠜎𠜱𠝹",
            "\u{202e}gnp.exe",
            "counter",
            "admin",
            "CENTER",
            "D-COURT",
            "loan_approval",
            "phone",
            "written",
            "request_sent",
            "7.2026-11-23.x",
        ];
        if field == "password" || field.ends_with("_password") {
            // Never the demo password: sessions of the fuzzer must survive.
            return format!("pw{}", rng.random::<u32>());
        }
        match rng.random_range(0..10) {
            0..=3 if !self.real.is_empty() => {
                self.real[rng.random_range(0..self.real.len())].clone()
            }
            4 => {
                let s = HOSTILE[rng.random_range(0..HOSTILE.len())];
                s.repeat(rng.random_range(1..=2000))
            }
            5 => (0..rng.random_range(0..64))
                .map(|_| char::from_u32(rng.random_range(0..0x3_0000)).unwrap_or('?'))
                .collect(),
            6 if !self.real.is_empty() => {
                let s = &self.real[rng.random_range(0..self.real.len())];
                String::from_utf8_lossy(&mutate(rng, s.as_bytes(), b"")).into_owned()
            }
            _ => HOSTILE[rng.random_range(0..HOSTILE.len())].to_string(),
        }
    }

    fn file(&self, rng: &mut StdRng) -> Vec<u8> {
        if self.files.is_empty() || rng.random_bool(0.1) {
            return (0..rng.random_range(0..256))
                .map(|_| rng.random())
                .collect();
        }
        let seed = &self.files[rng.random_range(0..self.files.len())];
        if rng.random_bool(0.3) {
            seed.clone()
        } else {
            mutate(rng, seed, b"")
        }
    }
}

/// Sends and receives message bytes as they are.
#[derive(Clone, Copy, Default)]
pub struct RawCodec;

pub struct RawEncoder;
pub struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// Calls `method` with `body` as the request message; reads a streamed
/// answer to its end.
pub async fn call(
    channel: &Channel,
    method: &Method,
    body: Vec<u8>,
    token: Option<&str>,
    lang: Lang,
) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone())
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut req = tonic::Request::new(body);
    if let Some(t) = token
        && let Ok(v) = format!("Bearer {t}").parse()
    {
        req.metadata_mut().insert("authorization", v);
    }
    if let Ok(v) = lang.tag().parse() {
        req.metadata_mut()
            .insert(credit_desk_proto::LANG_METADATA_KEY, v);
    }
    let path = http::uri::PathAndQuery::try_from(method.path.as_str())
        .map_err(|e| tonic::Status::internal(format!("fuzzer: bad path {e}")))?;
    if method.server_streaming {
        let mut stream = grpc
            .server_streaming(req, path, RawCodec)
            .await?
            .into_inner();
        while stream.message().await?.is_some() {}
    } else {
        grpc.unary(req, path, RawCodec).await?;
    }
    Ok(())
}

/// Whether an answer shows a server fault rather than a refusal of the
/// input: INTERNAL or UNKNOWN, or a broken connection.
pub fn is_fault(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Internal | tonic::Code::Unknown | tonic::Code::Unavailable
    )
}
