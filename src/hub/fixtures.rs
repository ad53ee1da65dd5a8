//! The files of the seeded tiny-bert repositories.
//!
//! The text files live next to this module under `fixtures/` so they can be read and edited as
//! files. The weights are generated here, in the safetensors format, for exactly the tensors
//! transformers' `BertModel` expects for `fixtures/config.json`, so `AutoModel.from_pretrained`
//! loads them without warnings and runs a forward pass.

use axum::body::Bytes;
use serde_json::{Map, Value, json};

use super::world::{FileContent, splitmix64};

/// `config.json` of the tiny BERT.
pub const CONFIG_JSON: &str = include_str!("fixtures/config.json");
/// `tokenizer.json` (WordLevel, BertNormalizer, BertPreTokenizer, CLS/SEP template).
pub const TOKENIZER_JSON: &str = include_str!("fixtures/tokenizer.json");
/// `tokenizer_config.json` (`BertTokenizerFast`).
pub const TOKENIZER_CONFIG_JSON: &str = include_str!("fixtures/tokenizer_config.json");
/// The model card.
pub const README_MD: &str = include_str!("fixtures/README.md");
/// The `.gitattributes` every new repository starts with.
pub const GITATTRIBUTES: &str = include_str!("fixtures/gitattributes");

/// Seed of the weight generator; changing it changes every weight.
const WEIGHT_SEED: u64 = 0x5EED_B0B7_1E57_0001;

/// The files of `unidive/tiny-bert`, in commit order.
pub fn tiny_bert_files() -> Vec<(String, FileContent)> {
    let text = |s: &'static str| FileContent::Bytes(Bytes::from_static(s.as_bytes()));
    vec![
        (".gitattributes".into(), text(GITATTRIBUTES)),
        ("README.md".into(), text(README_MD)),
        ("config.json".into(), text(CONFIG_JSON)),
        ("tokenizer.json".into(), text(TOKENIZER_JSON)),
        ("tokenizer_config.json".into(), text(TOKENIZER_CONFIG_JSON)),
        (
            "model.safetensors".into(),
            FileContent::Bytes(Bytes::from(tiny_bert_safetensors())),
        ),
    ]
}

/// The model card of the gated repository: the tiny-bert card plus the gate fields.
pub fn gated_readme() -> String {
    README_MD.replacen(
        "---\n",
        "---\nextra_gated_prompt: \"You agree to use this mock model for the UniDive course only.\"\n",
        1,
    )
}

/// Reads an integer field of `config.json`, falling back to `default` if it is missing.
fn config_usize(config: &Value, key: &str, default: usize) -> usize {
    config
        .get(key)
        .and_then(Value::as_u64)
        .map_or(default, |v| v as usize)
}

/// The tensor names and shapes of a `BertModel` for `config.json`, in a stable order.
pub fn bert_tensor_shapes() -> Vec<(String, Vec<usize>)> {
    let config: Value = serde_json::from_str(CONFIG_JSON).unwrap_or(Value::Null);
    let vocab = config_usize(&config, "vocab_size", 32);
    let hidden = config_usize(&config, "hidden_size", 32);
    let layers = config_usize(&config, "num_hidden_layers", 2);
    let inter = config_usize(&config, "intermediate_size", 37);
    let positions = config_usize(&config, "max_position_embeddings", 64);
    let types = config_usize(&config, "type_vocab_size", 2);

    let mut t: Vec<(String, Vec<usize>)> = vec![
        (
            "embeddings.word_embeddings.weight".into(),
            vec![vocab, hidden],
        ),
        (
            "embeddings.position_embeddings.weight".into(),
            vec![positions, hidden],
        ),
        (
            "embeddings.token_type_embeddings.weight".into(),
            vec![types, hidden],
        ),
        ("embeddings.LayerNorm.weight".into(), vec![hidden]),
        ("embeddings.LayerNorm.bias".into(), vec![hidden]),
    ];
    for i in 0..layers {
        let p = format!("encoder.layer.{i}");
        for m in ["query", "key", "value"] {
            t.push((
                format!("{p}.attention.self.{m}.weight"),
                vec![hidden, hidden],
            ));
            t.push((format!("{p}.attention.self.{m}.bias"), vec![hidden]));
        }
        t.push((
            format!("{p}.attention.output.dense.weight"),
            vec![hidden, hidden],
        ));
        t.push((format!("{p}.attention.output.dense.bias"), vec![hidden]));
        t.push((
            format!("{p}.attention.output.LayerNorm.weight"),
            vec![hidden],
        ));
        t.push((format!("{p}.attention.output.LayerNorm.bias"), vec![hidden]));
        t.push((
            format!("{p}.intermediate.dense.weight"),
            vec![inter, hidden],
        ));
        t.push((format!("{p}.intermediate.dense.bias"), vec![inter]));
        t.push((format!("{p}.output.dense.weight"), vec![hidden, inter]));
        t.push((format!("{p}.output.dense.bias"), vec![hidden]));
        t.push((format!("{p}.output.LayerNorm.weight"), vec![hidden]));
        t.push((format!("{p}.output.LayerNorm.bias"), vec![hidden]));
    }
    t.push(("pooler.dense.weight".into(), vec![hidden, hidden]));
    t.push(("pooler.dense.bias".into(), vec![hidden]));
    t
}

/// The weights file: LayerNorm weights are 1, LayerNorm biases 0, everything else uniform noise
/// in [-0.05, 0.05) from splitmix64, so every run produces the same bytes.
pub fn tiny_bert_safetensors() -> Vec<u8> {
    let mut state = WEIGHT_SEED;
    let tensors: Vec<(String, Vec<usize>, Vec<f32>)> = bert_tensor_shapes()
        .into_iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let values = if name.contains("LayerNorm.weight") {
                vec![1.0; n]
            } else if name.contains("LayerNorm.bias") {
                vec![0.0; n]
            } else {
                (0..n)
                    .map(|_| {
                        let unit = (splitmix64(&mut state) >> 40) as f32 / (1u64 << 24) as f32;
                        (unit - 0.5) * 0.1
                    })
                    .collect()
            };
            (name, shape, values)
        })
        .collect();
    encode_safetensors(&tensors)
}

/// Encodes F32 tensors as safetensors: an 8-byte little-endian header length, a JSON header
/// padded with spaces to a multiple of 8, then the raw little-endian data.
pub fn encode_safetensors(tensors: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let mut header = Map::new();
    header.insert("__metadata__".into(), json!({"format": "pt"}));
    let mut offset = 0usize;
    for (name, shape, values) in tensors {
        let end = offset + values.len() * 4;
        header.insert(
            name.clone(),
            json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut header_bytes = Value::Object(header).to_string().into_bytes();
    while !header_bytes.len().is_multiple_of(8) {
        header_bytes.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + header_bytes.len() + offset);
    out.extend_from_slice(&(header_bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(&header_bytes);
    for (_, _, values) in tensors {
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}
