// A model's vocabulary as a byte trie, built once per model: what the format constraints walk
// against their automaton to compute a token mask.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "llama.h"
#include "ner-engine.h"

namespace mfner {

// Flat, depth-first trie of every token's text (llama_token_to_piece with special = true, as
// llama.cpp's grammar sees it). End-of-generation tokens are kept apart: they are allowed only
// where the answer may end.
struct TrieData {
    struct Node {
        uint32_t next;  // index just past this node's subtree
        uint32_t tok0;  // first of this node's tokens in `toks`
        uint16_t ntok;
        uint16_t depth;
        uint8_t byte;
    };
    const llama_vocab * vocab = nullptr;
    int32_t nVocab = 0;
    uint32_t maxDepth = 0;
    std::vector<Node> nodes;
    std::vector<int32_t> toks;
    std::vector<int32_t> eog;
    std::vector<std::string> pieces;  // by token id
    std::vector<uint8_t> isEog;       // by token id

    void Build(const llama_vocab * v);
    // Sorted token ids allowed from state s (EOG included when the machine accepts there).
    void Mask(const ner::Machine & m, const ner::MState & s, const ner::UsedCounts * used, std::vector<int32_t> & out) const;
    // The child of `node` (0 = root) reached by byte b, or 0 when there is none.
    uint32_t Child(uint32_t node, uint8_t b) const;
    // Some token strictly below `node` (its text continuing past the node's bytes) whose
    // remaining bytes the machine accepts from s.
    bool AnyBelow(uint32_t node, const ner::Machine & m, const ner::MState & s, const ner::UsedCounts * used) const;
    // Feeds one token's text; false when the machine rejects it.
    bool Feed(const ner::Machine & m, ner::MState & s, int32_t token, const ner::UsedCounts * used) const;
};

class TokenTrieWrap : public Napi::ObjectWrap<TokenTrieWrap> {
public:
    static Napi::Object Init(Napi::Env env, Napi::Object exports);
    static Napi::FunctionReference constructor;
    explicit TokenTrieWrap(const Napi::CallbackInfo & info);
    std::shared_ptr<const TrieData> Data() const { return data_; }

private:
    Napi::Value Info(const Napi::CallbackInfo & info);
    std::shared_ptr<TrieData> data_;
    Napi::ObjectReference model_;  // keeps the vocabulary alive
    double buildMs_ = 0;
};

}  // namespace mfner
