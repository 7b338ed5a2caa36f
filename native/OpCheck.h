// Single ggml ops run on the CPU backend, for tests of the patches that change CPU kernels.
#pragma once

#include <napi.h>

namespace mfner {

// outProduct(a, aShape, b, bShape, { transposeB, threads, repeat }) -> Float32Array: ggml_out_prod(a, b')
// where b' is b (shape bShape) or, with transposeB, the transposed view of b stored as
// [bShape[1], bShape[0], ...]. Shapes are ggml's [ne0, ne1, ne2, ne3]. `repeat` computes the op
// that many times (a bench times repeat 1 against repeat n to leave out the copies in and out).
Napi::Value OutProduct(const Napi::CallbackInfo & info);

// outProduct's { aType }: a is stored in that ggml type (F16, BF16, any quantized type) before
// the op, as a frozen base's weight is. roundTrip(values, type, rowLength) -> Float32Array: the
// values stored in `type` in rows of rowLength and read back, i.e. what such a kernel computes with.
Napi::Value RoundTrip(const Napi::CallbackInfo & info);

// tensorTypes() -> [{ name, blockSize }]: every ggml type a model's tensor can hold.
Napi::Value TensorTypeList(const Napi::CallbackInfo & info);

// mulMat(a, aShape, b, bShape, { threads, repeat, aType }) -> Float32Array: ggml_mul_mat(a, b), a stored as aType.
Napi::Value MulMat(const Napi::CallbackInfo & info);

// crossEntropy(logits, labels, shape, { threads }) -> number: ggml_cross_entropy_loss, i.e.
// -sum(labels * log_softmax(logits)) / rows over rows of shape[0] classes (patch 0009's log-softmax).
Napi::Value CrossEntropy(const Napi::CallbackInfo & info);

}  // namespace mfner
