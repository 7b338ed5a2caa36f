// An inference context on a model: KV cache, threads, and batched generation of many prompts.
#pragma once

#include <napi.h>

#include <atomic>

#include "llama.h"

namespace mfner {

class ModelWrap;

struct ContextOptions {
    uint32_t contextSize = 2048;
    uint32_t batchSize = 512;
    uint32_t microBatchSize = 512;
    uint32_t sequences = 1;
    int32_t threads = 2;
};

class ContextWrap : public Napi::ObjectWrap<ContextWrap> {
public:
    static Napi::Object Init(Napi::Env env, Napi::Object exports);
    explicit ContextWrap(const Napi::CallbackInfo & info);
    ~ContextWrap() override;

private:
    friend class GenerateWorker;
    Napi::Value Generate(const Napi::CallbackInfo & info);
    Napi::Value Abort(const Napi::CallbackInfo & info);
    Napi::Value SetAdapters(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value Info(const Napi::CallbackInfo & info);
    void FreeNow();
    static bool AbortCallback(void * self);

    ModelWrap * model_ = nullptr;
    Napi::ObjectReference modelRef_;
    llama_context * ctx_ = nullptr;
    ContextOptions options_;
    bool busy_ = false;              // a generation is in flight (JS thread only)
    bool disposeRequested_ = false;  // dispose() came while busy: the worker frees on completion
    std::atomic<bool> abortRequested_{false};
};

}  // namespace mfner
