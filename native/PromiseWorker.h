// The one shape of every long native operation: an AsyncWorker that runs on a worker thread and
// settles a promise on the JS thread. A thrown CodedError rejects with its own code; any other
// exception with the worker's fallback code. The JS object named at construction is kept alive
// until the promise settles.
#pragma once

#include <napi.h>

#include <exception>
#include <string>

#include "util.h"

namespace mfner {

class PromiseWorker : public Napi::AsyncWorker {
public:
    // `fallbackCode` / `what`: the code and message prefix for exceptions that carry no code.
    PromiseWorker(Napi::Env env, Napi::Object keepAlive, std::string fallbackCode, std::string what)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), keepAlive_(Napi::Persistent(keepAlive)),
          code_(std::move(fallbackCode)), what_(std::move(what)) {}

    // Queues the work and returns its promise.
    Napi::Promise Start() {
        Napi::Promise promise = deferred_.Promise();
        Queue();
        return promise;
    }

protected:
    virtual void Run() = 0;                           // worker thread; never touches JS
    virtual Napi::Value Result(Napi::Env env) = 0;    // JS thread, after Run succeeded; may throw CodedError
    virtual void Settled() {}                         // JS thread, before resolving or rejecting
    Napi::Object KeptObject() { return keepAlive_.Value(); }

private:
    void Execute() final {
        try {
            Run();
        } catch (const CodedError & e) {
            code_ = e.code();
            SetError(e.what());
        } catch (const std::exception & e) {
            SetError(what_.empty() ? std::string(e.what()) : what_ + ": " + e.what());
        }
    }
    void OnOK() final {
        Settled();
        try {
            deferred_.Resolve(Result(Env()));
        } catch (const CodedError & e) {  // a result that can no longer be delivered
            RejectCoded(deferred_, e.code(), e.what());
        }
    }
    void OnError(const Napi::Error & err) final {
        Settled();
        RejectCoded(deferred_, code_, err.Message());
    }

    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference keepAlive_;
    std::string code_;
    std::string what_;
};

}  // namespace mfner
