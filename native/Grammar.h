// A user's GBNF grammar as a constraint (llama.cpp's grammar sampler, one per sequence).
#pragma once

#include <napi.h>

#include <string>

#include "Constraint.h"

namespace mfner {

class GrammarWrap : public Napi::ObjectWrap<GrammarWrap>, public ConstraintSource {
public:
    static Napi::Object Init(Napi::Env env, Napi::Object exports);
    explicit GrammarWrap(const Napi::CallbackInfo & info);
    llama_sampler * NewSequenceSampler(const llama_vocab * vocab) override;

private:
    Napi::Value Source(const Napi::CallbackInfo & info);
    std::string gbnf_;
    std::string root_;
    Napi::ObjectReference model_;  // keeps the vocabulary alive
};

}  // namespace mfner
