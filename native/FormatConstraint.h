// An output format's input-dependent constraint (ner-machines.h) as a ConstraintSource: one
// custom llama_sampler per sequence, masking by a walk of the model's token trie.
#pragma once

#include <napi.h>

#include <memory>

#include "Constraint.h"
#include "TokenTrie.h"
#include "ner-machines.h"

namespace mfner {

class FormatConstraintWrap : public Napi::ObjectWrap<FormatConstraintWrap>, public ConstraintSource {
public:
    static Napi::Object Init(Napi::Env env, Napi::Object exports);
    explicit FormatConstraintWrap(const Napi::CallbackInfo & info);
    llama_sampler * NewSequenceSampler(const llama_vocab * vocab) override;
    void ForcedBytes(llama_sampler * seq, std::string & out) const override;
    bool ForcedTokens(llama_sampler * seq, std::vector<llama_token> & out, size_t maxTokens) const override;

private:
    Napi::Value Allowed(const Napi::CallbackInfo & info);
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Forced(const Napi::CallbackInfo & info);
    std::shared_ptr<const TrieData> trie_;
    std::shared_ptr<const ner::Machine> machine_;
    Napi::ObjectReference trieRef_;
    double buildMs_ = 0;
};

// constraintMask(model, constraint, tokens) and constraintBench(model, constraint, tokens):
// any constraint (GBNF or format) through llama.cpp's sampler interface, for tests and benches.
Napi::Value ConstraintMask(const Napi::CallbackInfo & info);
Napi::Value ConstraintBench(const Napi::CallbackInfo & info);

}  // namespace mfner
