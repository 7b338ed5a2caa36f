// Module entry: one-time backend set-up, quiet logging, and the classes and functions JS sees.
#include <napi.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "llama.h"
#include "Context.h"
#include "FormatConstraint.h"
#include "Grammar.h"
#include "Model.h"
#include "OpCheck.h"
#include "Quantize.h"
#include "ModelMaker.h"
#include "Trainer.h"
#include "TokenTrie.h"
#include "util.h"

namespace mfner {
namespace {

// llama.cpp logs go to stderr only at or above this level. Default: errors only, because
// hospital pipelines must not get chatty logs; MFNER_LOG=warn|info|debug raises it.
std::atomic<int> g_log_level{GGML_LOG_LEVEL_ERROR};

void LogCallback(ggml_log_level level, const char * text, void *) {
    static thread_local int last = GGML_LOG_LEVEL_NONE;
    int effective = level == GGML_LOG_LEVEL_CONT ? last : level;
    if (level != GGML_LOG_LEVEL_CONT) last = level;
    if (effective >= g_log_level.load() && !t_quietLogs) std::fputs(text, stderr);
}

int ParseLogLevel(const char * s) {
    if (!s) return GGML_LOG_LEVEL_ERROR;
    if (!std::strcmp(s, "debug")) return GGML_LOG_LEVEL_DEBUG;
    if (!std::strcmp(s, "info")) return GGML_LOG_LEVEL_INFO;
    if (!std::strcmp(s, "warn")) return GGML_LOG_LEVEL_WARN;
    if (!std::strcmp(s, "none")) return GGML_LOG_LEVEL_ERROR + 1;
    return GGML_LOG_LEVEL_ERROR;
}

Napi::Value SystemInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("cuda", Napi::Boolean::New(env, MFNER_CUDA != 0));
    out.Set("gpuOffload", Napi::Boolean::New(env, llama_supports_gpu_offload()));
    out.Set("mmap", Napi::Boolean::New(env, llama_supports_mmap()));
    out.Set("system", Napi::String::New(env, llama_print_system_info()));
    return out;
}

Napi::Value SetLogLevel(const Napi::CallbackInfo & info) {
    g_log_level = ParseLogLevel(ArgString(info, 0, "level").c_str());
    return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    static bool initialised = false;  // once per process, even with several Node environments
    if (!initialised) {
        g_log_level = ParseLogLevel(std::getenv("MFNER_LOG"));
        llama_log_set(LogCallback, nullptr);
        llama_backend_init();
        initialised = true;
    }
    ModelWrap::Init(env, exports);
    ContextWrap::Init(env, exports);
    GrammarWrap::Init(env, exports);
#if MFNER_HAS_TRAINER
    TrainerWrap::Init(env, exports);  // only over the patched llama.cpp (native/patches)
#endif
    TokenTrieWrap::Init(env, exports);
    FormatConstraintWrap::Init(env, exports);
    exports.Set("makeModel", Napi::Function::New(env, MakeModel, "makeModel"));
    exports.Set("quantizeModel", Napi::Function::New(env, QuantizeModel, "quantizeModel"));
    exports.Set("outProduct", Napi::Function::New(env, OutProduct, "outProduct"));  // test hooks (OpCheck.h)
    exports.Set("mulMat", Napi::Function::New(env, MulMat, "mulMat"));
    exports.Set("roundTrip", Napi::Function::New(env, RoundTrip, "roundTrip"));
    exports.Set("tensorTypes", Napi::Function::New(env, TensorTypeList, "tensorTypes"));
    exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
    exports.Set("systemInfo", Napi::Function::New(env, SystemInfo, "systemInfo"));
    exports.Set("setLogLevel", Napi::Function::New(env, SetLogLevel, "setLogLevel"));
    return exports;
}

}  // namespace mfner

Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return mfner::Init(env, exports); }

NODE_API_MODULE(mfner, InitModule)
