//! Tiny models the mock Hub makes for a world file's `generate = "..."`: every file
//! `from_pretrained` reads, with deterministic weights.
//!
//! The BERT's text files live next to this module under `generate/` so they can be read and
//! edited as files; the Llama's are built here from the same vocabulary. The weights are written
//! in the safetensors format for exactly the tensors transformers' `BertModel` and
//! `LlamaForCausalLM` expect for their configs, so `AutoModel.from_pretrained`,
//! `AutoModelForCausalLM.from_pretrained`, `pipeline("text-generation")` and `generate()` load
//! them without warnings and run. The models have learned nothing: what they print is noise, the
//! same in every run.

use axum::body::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::content::{FileContent, splitmix64};

/// `config.json` of the tiny BERT.
pub const BERT_CONFIG_JSON: &str = include_str!("generate/config.json");
/// The BERT's `tokenizer.json` (WordLevel, BertNormalizer, BertPreTokenizer, CLS/SEP template).
pub const BERT_TOKENIZER_JSON: &str = include_str!("generate/tokenizer.json");
/// The BERT's `tokenizer_config.json` (`BertTokenizerFast`).
pub const BERT_TOKENIZER_CONFIG_JSON: &str = include_str!("generate/tokenizer_config.json");
/// The `.gitattributes` every new model or Space starts with: the Hub's default, whose LFS
/// rules preupload follows (`*.parquet`, `*.safetensors`, `*.bin`, ...).
pub const GITATTRIBUTES: &str = include_str!("generate/gitattributes");
/// The `.gitattributes` every new dataset starts with: the model rules plus `*.lz4`, audio and
/// image files.
pub const GITATTRIBUTES_DATASET: &str = include_str!("generate/gitattributes-dataset");

/// The `.gitattributes` a new repository of `repo_type` starts with.
pub fn default_gitattributes(repo_type: super::repo_type::RepoType) -> &'static str {
    match repo_type {
        super::repo_type::RepoType::Dataset => GITATTRIBUTES_DATASET,
        _ => GITATTRIBUTES,
    }
}

/// Seed of the weight generator; changing it changes every weight.
const WEIGHT_SEED: u64 = 0x5EED_B0B7_1E57_0001;

/// The Llama's sizes: small enough to generate in a millisecond, large enough for grouped-query
/// attention (4 heads sharing 2 key/value heads) and rotary embeddings to run.
const LLAMA_HIDDEN: usize = 32;
const LLAMA_INTERMEDIATE: usize = 64;
const LLAMA_LAYERS: usize = 2;
const LLAMA_HEADS: usize = 4;
const LLAMA_KV_HEADS: usize = 2;
const LLAMA_POSITIONS: usize = 128;
/// The Llama's special tokens, in id order, before the shared words.
const LLAMA_SPECIAL: [&str; 3] = ["<unk>", "<s>", "</s>"];

/// An architecture the mock can make a tiny model of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// An encoder (`BertModel`): `AutoModel`, `pipeline("feature-extraction")`.
    Bert,
    /// A decoder-only language model (`LlamaForCausalLM`): `AutoModelForCausalLM`,
    /// `pipeline("text-generation")`, `generate()`.
    Llama,
}

/// The files of a tiny model of `architecture` for the repository `repo_id`, in commit order;
/// `gated` adds the gate's prompt to the model card.
pub fn model_files(
    architecture: Architecture,
    repo_id: &str,
    gated: bool,
) -> Vec<(String, FileContent)> {
    let text = |s: String| FileContent::Bytes(Bytes::from(s));
    let card = model_card(architecture, repo_id, gated);
    match architecture {
        Architecture::Bert => vec![
            ("README.md".into(), text(card)),
            ("config.json".into(), text(BERT_CONFIG_JSON.into())),
            ("tokenizer.json".into(), text(BERT_TOKENIZER_JSON.into())),
            (
                "tokenizer_config.json".into(),
                text(BERT_TOKENIZER_CONFIG_JSON.into()),
            ),
            (
                "model.safetensors".into(),
                FileContent::Bytes(Bytes::from(tiny_bert_safetensors())),
            ),
        ],
        Architecture::Llama => vec![
            ("README.md".into(), text(card)),
            ("config.json".into(), text(pretty(&llama_config()))),
            (
                "generation_config.json".into(),
                text(pretty(&llama_generation_config())),
            ),
            ("tokenizer.json".into(), text(pretty(&llama_tokenizer()))),
            (
                "tokenizer_config.json".into(),
                text(pretty(&llama_tokenizer_config())),
            ),
            (
                "model.safetensors".into(),
                FileContent::Bytes(Bytes::from(tiny_llama_safetensors())),
            ),
        ],
    }
}

fn pretty(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

/// A model card: YAML metadata the Hub reads (library, task, and the gate's prompt), then a few
/// lines saying what the model is.
fn model_card(architecture: Architecture, repo_id: &str, gated: bool) -> String {
    let (task, what) = match architecture {
        Architecture::Bert => (
            "feature-extraction",
            "A tiny BERT (2 layers, 2 attention heads, hidden size 32, intermediate size 37)",
        ),
        Architecture::Llama => (
            "text-generation",
            "A tiny Llama (2 layers, 4 attention heads sharing 2 key/value heads, hidden size 32)",
        ),
    };
    let gate = if gated {
        "extra_gated_prompt: \"You agree to use this model for the course only.\"\n"
    } else {
        ""
    };
    let name = repo_id.rsplit('/').next().unwrap_or(repo_id);
    format!(
        "---\n{gate}license: apache-2.0\nlanguage: en\nlibrary_name: transformers\npipeline_tag: {task}\ntags:\n  - mock\n  - tiny\n---\n\n\
         # {name} (mock)\n\n{what}, served by the mdbook-hubcheck mock Hugging Face Hub. Its weights are\n\
         deterministic noise: the model loads and runs, but it has learned nothing.\n"
    )
}

/// The words of the BERT's vocabulary after its five special tokens, which the Llama shares.
fn shared_words() -> Vec<String> {
    let tokenizer: Value = serde_json::from_str(BERT_TOKENIZER_JSON).unwrap_or(Value::Null);
    let mut words: Vec<(u64, String)> = tokenizer["model"]["vocab"]
        .as_object()
        .map(|vocab| {
            vocab
                .iter()
                .filter(|(word, _)| !word.starts_with('['))
                .map(|(word, id)| (id.as_u64().unwrap_or(0), word.clone()))
                .collect()
        })
        .unwrap_or_default();
    words.sort();
    words.into_iter().map(|(_, w)| w).collect()
}

/// The Llama's vocabulary: its special tokens, then the shared words.
fn llama_vocab() -> Vec<String> {
    LLAMA_SPECIAL
        .iter()
        .map(|s| s.to_string())
        .chain(shared_words())
        .collect()
}

fn llama_config() -> Value {
    json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": llama_vocab().len(),
        "hidden_size": LLAMA_HIDDEN,
        "intermediate_size": LLAMA_INTERMEDIATE,
        "num_hidden_layers": LLAMA_LAYERS,
        "num_attention_heads": LLAMA_HEADS,
        "num_key_value_heads": LLAMA_KV_HEADS,
        "head_dim": LLAMA_HIDDEN / LLAMA_HEADS,
        "max_position_embeddings": LLAMA_POSITIONS,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "attention_bias": false,
        "mlp_bias": false,
        "tie_word_embeddings": false,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "dtype": "float32"
    })
}

fn llama_generation_config() -> Value {
    json!({"bos_token_id": 1, "eos_token_id": 2, "do_sample": false})
}

/// A WordLevel tokenizer over [`llama_vocab`]: lower-cased, split on words and punctuation,
/// `<s>` put in front; decoding joins the words with spaces.
fn llama_tokenizer() -> Value {
    let vocab: Map<String, Value> = llama_vocab()
        .into_iter()
        .enumerate()
        .map(|(id, word)| (word, json!(id)))
        .collect();
    let added: Vec<Value> = LLAMA_SPECIAL
        .iter()
        .enumerate()
        .map(|(id, content)| {
            json!({"id": id, "content": content, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}
        },
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}
    })
}

fn llama_tokenizer_config() -> Value {
    json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": LLAMA_POSITIONS,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "</s>",
        "clean_up_tokenization_spaces": false,
        "chat_template": "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"
    })
}

/// Reads an integer field of the BERT's `config.json`, falling back to `default` if it is missing.
fn config_usize(config: &Value, key: &str, default: usize) -> usize {
    config
        .get(key)
        .and_then(Value::as_u64)
        .map_or(default, |v| v as usize)
}

/// The tensor names and shapes of a `BertModel` for its `config.json`, in a stable order.
pub fn bert_tensor_shapes() -> Vec<(String, Vec<usize>)> {
    let config: Value = serde_json::from_str(BERT_CONFIG_JSON).unwrap_or(Value::Null);
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

/// The tensor names and shapes of a `LlamaForCausalLM` for `llama_config`, in a stable order.
pub fn llama_tensor_shapes() -> Vec<(String, Vec<usize>)> {
    let vocab = llama_vocab().len();
    let (hidden, inter) = (LLAMA_HIDDEN, LLAMA_INTERMEDIATE);
    let head_dim = LLAMA_HIDDEN / LLAMA_HEADS;
    let kv = LLAMA_KV_HEADS * head_dim;
    let mut t: Vec<(String, Vec<usize>)> =
        vec![("model.embed_tokens.weight".into(), vec![vocab, hidden])];
    for i in 0..LLAMA_LAYERS {
        let p = format!("model.layers.{i}");
        t.push((
            format!("{p}.self_attn.q_proj.weight"),
            vec![LLAMA_HEADS * head_dim, hidden],
        ));
        t.push((format!("{p}.self_attn.k_proj.weight"), vec![kv, hidden]));
        t.push((format!("{p}.self_attn.v_proj.weight"), vec![kv, hidden]));
        t.push((
            format!("{p}.self_attn.o_proj.weight"),
            vec![hidden, LLAMA_HEADS * head_dim],
        ));
        t.push((format!("{p}.mlp.gate_proj.weight"), vec![inter, hidden]));
        t.push((format!("{p}.mlp.up_proj.weight"), vec![inter, hidden]));
        t.push((format!("{p}.mlp.down_proj.weight"), vec![hidden, inter]));
        t.push((format!("{p}.input_layernorm.weight"), vec![hidden]));
        t.push((format!("{p}.post_attention_layernorm.weight"), vec![hidden]));
    }
    t.push(("model.norm.weight".into(), vec![hidden]));
    t.push(("lm_head.weight".into(), vec![vocab, hidden]));
    t
}

/// The BERT's weights file.
pub fn tiny_bert_safetensors() -> Vec<u8> {
    encode_safetensors(&deterministic_weights(bert_tensor_shapes()))
}

/// The Llama's weights file.
pub fn tiny_llama_safetensors() -> Vec<u8> {
    encode_safetensors(&deterministic_weights(llama_tensor_shapes()))
}

/// Normalisation weights are 1 and their biases 0; everything else is uniform noise in
/// [-0.05, 0.05) from splitmix64, so every run produces the same bytes.
fn deterministic_weights(shapes: Vec<(String, Vec<usize>)>) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let mut state = WEIGHT_SEED;
    shapes
        .into_iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let is_norm =
                name.contains("LayerNorm") || name.contains("layernorm") || name.contains(".norm.");
            let values = if is_norm && name.ends_with(".weight") {
                vec![1.0; n]
            } else if is_norm && name.ends_with(".bias") {
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
        .collect()
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
