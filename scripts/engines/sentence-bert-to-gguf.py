"""Writes a sentence-transformers BERT model (safetensors + vocab.txt) as a GGUF for llama.cpp.

llama.cpp's own convert_hf_to_gguf.py does this, but it needs PyTorch, which from
the package registry comes with several GB of CUDA libraries. This follows that
converter's BertModel (same metadata keys, tensor names from gguf's own name map,
the same "phantom space" WordPiece vocabulary) with numpy only.

Usage: python sentence-bert-to-gguf.py MODEL_DIR OUT.gguf
"""

import json
import sys
from pathlib import Path

import gguf
from safetensors.numpy import load_file

# Tensors the sentence embedding does not use (as in llama.cpp's converter).
SKIPPED = ("embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias")


def main(model_dir: Path, out_path: Path) -> None:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert":
        raise SystemExit(f"{model_dir}: model_type {config.get('model_type')!r}, expected 'bert'")
    n_layers = config["num_hidden_layers"]
    writer = gguf.GGUFWriter(str(out_path), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.BERT])
    writer.add_name(out_path.stem)
    writer.add_block_count(n_layers)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_layer_norm_eps(config["layer_norm_eps"])
    writer.add_causal_attention(False)
    writer.add_pooling_type(pooling_type(model_dir))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    tokens = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    special = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
    types = [gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens]
    writer.add_token_type_count(config.get("type_vocab_size", 1))
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    # llama.cpp's WordPiece marks word starts with U+2581 instead of marking continuations with ##.
    writer.add_token_list([t if k == gguf.TokenType.CONTROL else t[2:] if t.startswith("##") else "\u2581" + t for t, k in zip(tokens, types)])
    writer.add_token_types(types)
    gguf.SpecialVocab(model_dir, n_vocab=len(tokens)).add_to_gguf(writer)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, n_layers)
    for name, data in load_file(str(model_dir / "model.safetensors")).items():
        name = name.removeprefix("bert.")
        if name in SKIPPED:
            continue
        mapped = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if mapped is None:
            raise SystemExit(f"{model_dir}: no GGUF name for tensor {name}")
        writer.add_tensor(mapped, data.astype("float32"))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def pooling_type(model_dir: Path) -> gguf.PoolingType:
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    pooling = next((m["path"] for m in modules if m["type"].endswith("Pooling")), None)
    if pooling is None:
        raise SystemExit(f"{model_dir}: modules.json names no pooling module")
    mode = json.loads((model_dir / pooling / "config.json").read_text(encoding="utf-8"))
    if mode.get("pooling_mode_mean_tokens"):
        return gguf.PoolingType.MEAN
    if mode.get("pooling_mode_cls_token"):
        return gguf.PoolingType.CLS
    raise SystemExit(f"{model_dir}: only mean and CLS pooling are supported")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
