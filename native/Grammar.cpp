#include "Grammar.h"

#include "Model.h"
#include "util.h"

namespace mfner {

Napi::Object GrammarWrap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function func = DefineClass(env, "Grammar", {InstanceAccessor<&GrammarWrap::Source>("source")});
    exports.Set("Grammar", func);
    return exports;
}

// new Grammar(model, gbnf, { root }) parses the grammar once against the model's vocabulary,
// so a bad grammar is a clear error here rather than in the middle of a generation.
GrammarWrap::GrammarWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<GrammarWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(ModelWrap::constructor.Value())) {
        Throw(env, "ERR_INVALID_ARG", "Grammar needs a Model as its first argument");
    }
    ModelWrap * model = ModelWrap::Unwrap(info[0].As<Napi::Object>());
    model->Require(env);
    gbnf_ = ArgString(info, 1, "grammar");
    root_ = OptString(OptObject(info, 2), "root", "root");
    llama_sampler * probe = llama_sampler_init_grammar(model->Vocab(), gbnf_.c_str(), root_.c_str());
    if (!probe) Throw(env, "ERR_GRAMMAR", "the GBNF grammar does not parse (llama.cpp logs the reason on stderr)");
    llama_sampler_free(probe);
    model_ = Napi::Persistent(info[0].As<Napi::Object>());
    AttachConstraint(info.This().As<Napi::Object>(), this);
}

llama_sampler * GrammarWrap::NewSequenceSampler(const llama_vocab * vocab) {
    llama_sampler * s = llama_sampler_init_grammar(vocab, gbnf_.c_str(), root_.c_str());
    if (!s) throw CodedError("ERR_GRAMMAR", "the GBNF grammar does not parse");
    return s;
}

Napi::Value GrammarWrap::Source(const Napi::CallbackInfo & info) { return Napi::String::New(info.Env(), gbnf_); }

}  // namespace mfner
