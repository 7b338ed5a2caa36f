// The hook for per-sequence token constraints. A constraint is a JS object carrying a native
// ConstraintSource; generation asks it for one llama_sampler per sequence and puts that sampler
// first in the sequence's chain, so it masks the logits before any token is chosen.
// GBNF grammars (Grammar.cpp) implement it now; the per-format constraints plug in the same way.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "llama.h"

namespace mfner {

class ConstraintSource {
public:
    virtual ~ConstraintSource() = default;
    // Called on a worker thread: a fresh sampler holding one sequence's state. Must not touch JS.
    // Throws CodedError when it cannot be built.
    virtual llama_sampler * NewSequenceSampler(const llama_vocab * vocab) = 0;

    // Jump-forward (optional; the defaults say "nothing is forced", so GBNF grammars keep working).
    // `seq` is a sampler made by NewSequenceSampler, in the state after the tokens it accepted.
    // ForcedBytes: the bytes every valid continuation starts with (empty: a choice comes first).
    virtual void ForcedBytes(llama_sampler * /*seq*/, std::string & out) const { out.clear(); }
    // ForcedTokens: at most maxTokens tokens spelling a prefix of those bytes, to be fed without
    // sampling (not yet accepted by `seq`; the caller accepts them). Returns true when the answer
    // is complete and only end-of-generation may follow (then `out` is empty).
    virtual bool ForcedTokens(llama_sampler * /*seq*/, std::vector<llama_token> & out, size_t /*maxTokens*/) const {
        out.clear();
        return false;
    }
};

// The property under which a constraint object keeps its native source.
inline constexpr const char * kConstraintKey = "__mfnerConstraint";

inline void AttachConstraint(Napi::Object self, ConstraintSource * source) {
    self.DefineProperty(Napi::PropertyDescriptor::Value(kConstraintKey, Napi::External<ConstraintSource>::New(self.Env(), source), napi_default));
}

// The native source of a JS constraint object, or nullptr when the value is not one.
inline ConstraintSource * UnwrapConstraint(const Napi::Value & value) {
    if (!value.IsObject()) return nullptr;
    Napi::Value ext = value.As<Napi::Object>().Get(kConstraintKey);
    if (!ext.IsExternal()) return nullptr;
    return ext.As<Napi::External<ConstraintSource>>().Data();
}

}  // namespace mfner
