// Fine-tuning on a loaded model: LoRA or full, one AsyncWorker per training step, over the
// patched llama.cpp per-step training API (llama_opt_step, native/patches/).
#pragma once

#include <napi.h>

#include <functional>
#include <string>
#include <vector>

#include "ggml-opt.h"
#include "llama.h"

// The per-step training API comes from native/patches (0005-opt-step-api.diff); without it (a
// llama.cpp tree built before the series carried it) the addon builds without a Trainer.
#ifdef LLAMA_HAS_OPT_STEP
#define MFNER_HAS_TRAINER 1
#else
#define MFNER_HAS_TRAINER 0
#endif

#if MFNER_HAS_TRAINER

namespace mfner {

class ModelWrap;

struct OptimizerSettings {
    float lr = 1e-5f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weightDecay = 0.0f;  // decoupled; applied only to matrices (not biases, norms)
};

class TrainerWrap : public Napi::ObjectWrap<TrainerWrap> {
public:
    static Napi::Object Init(Napi::Env env, Napi::Object exports);
    explicit TrainerWrap(const Napi::CallbackInfo & info);
    ~TrainerWrap() override;

private:
    friend class TrainStepWorker;
    friend class TrainerTaskWorker;
    Napi::Value Step(const Napi::CallbackInfo & info);
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value ParamNames(const Napi::CallbackInfo & info);
    Napi::Value Gradient(const Napi::CallbackInfo & info);
    Napi::Value GetTensor(const Napi::CallbackInfo & info);
    Napi::Value SetTensor(const Napi::CallbackInfo & info);
    Napi::Value SaveAdapter(const Napi::CallbackInfo & info);
    Napi::Value SaveModel(const Napi::CallbackInfo & info);
    Napi::Value SaveOptimizer(const Napi::CallbackInfo & info);
    Napi::Value LoadOptimizer(const Napi::CallbackInfo & info);
    Napi::Value LoadWeights(const Napi::CallbackInfo & info);
    Napi::Value RunTask(Napi::Env env, std::function<void()> task);
    void WriteAdapter(const std::string & path) const;
    void WriteModel(const std::string & path) const;
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    void FreeNow();
    void Settle();  // a worker's work is done: idle again, or freed when dispose() came meanwhile
    void RequireIdle(Napi::Env env) const;
    ggml_tensor * Param(Napi::Env env, const std::string & name) const;
    static ggml_opt_optimizer_params OptimizerParams(void * self);

    ModelWrap * model_ = nullptr;
    Napi::ObjectReference modelRef_;
    llama_model * lmodel_ = nullptr;
    llama_context * ctx_ = nullptr;
    llama_adapter_lora * adapter_ = nullptr;
    std::string method_;     // lora | full
    std::string modelPath_;  // the GGUF the model was loaded from (full saves copy its metadata)
    float loraAlpha_ = 0;
    int32_t loraRank_ = 0;
    uint32_t contextSize_ = 0;
    std::vector<std::string> paramNames_;
    std::vector<ggml_tensor *> params_;
    std::vector<bool> decay_;  // per param: weight decay applies (matrices only)
    OptimizerSettings opt_;
    int64_t optimizerSteps_ = 0;
    bool busy_ = false;
    bool disposing_ = false;
    bool forwardOnly_ = false;  // losses only (mfner loss): no backward kernels needed
};

}  // namespace mfner

#endif  // MFNER_HAS_TRAINER
