// alphanet's native binding: a thin, mechanical node-addon-api layer over ATen.
//
// Tensors live in a handle table; JavaScript holds small integer handles and frees them
// explicitly (src/engine/tensor.ts). Every function here unpacks its arguments, calls one ATen
// operator and stores the result. No model logic belongs in this file.
//
// Only <ATen/ATen.h> is included: <torch/torch.h> triples the compile time and is not needed
// (autograd runs through ATen's dispatcher once libtorch is linked).
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/csrc/api/include/torch/version.h>
#include <c10/core/GradMode.h>
#include <ATen/record_function.h>
#include <malloc.h>

#include <chrono>
#include <map>
#include <mutex>

#include <string>
#include <vector>

namespace {

struct Slot {
  at::Tensor t;
  int64_t bytes = 0;
};
std::vector<Slot> slots;
std::vector<uint32_t> freeSlots;
int64_t liveBytes = 0;
int64_t liveCount = 0;

// What V8 has been told about tensor memory. Telling it every allocation and release made V8 run a
// full mark-compact every 15-25 ms of a training step (the live figure swings by hundreds of MB
// within a step), about 10% of the step time. V8 only needs the pressure for tensors left to
// finalizers, so it hears of new peaks at once and of releases only once more than 1 GiB has been
// freed: a steady training loop then triggers no collections at all.
int64_t reportedBytes = 0;
void ReportExternal(Napi::Env env) {
  constexpr int64_t kReleaseSlack = int64_t{1} << 30;
  if (liveBytes > reportedBytes || liveBytes < reportedBytes - kReleaseSlack) {
    Napi::MemoryManagement::AdjustExternalMemory(env, liveBytes - reportedBytes);
    reportedBytes = liveBytes;
  }
}

using CB = const Napi::CallbackInfo&;

// Dtype codes shared with src/engine/dtype.ts.
at::ScalarType ToScalarType(Napi::Env env, int code) {
  switch (code) {
    case 0: return at::kFloat;
    case 1: return at::kDouble;
    case 2: return at::kLong;
    case 3: return at::kBool;
    case 4: return at::kBFloat16;
    case 5: return at::kInt;
    case 6: return at::kByte;
    case 7: return at::kHalf;
  }
  throw Napi::TypeError::New(env, "unknown dtype code " + std::to_string(code));
}

int FromScalarType(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return 0;
    case at::kDouble: return 1;
    case at::kLong: return 2;
    case at::kBool: return 3;
    case at::kBFloat16: return 4;
    case at::kInt: return 5;
    case at::kByte: return 6;
    case at::kHalf: return 7;
    default: return -1;
  }
}

Napi::Value Put(Napi::Env env, at::Tensor t) {
  uint32_t h;
  if (!freeSlots.empty()) {
    h = freeSlots.back();
    freeSlots.pop_back();
  } else {
    h = static_cast<uint32_t>(slots.size());
    slots.emplace_back();
  }
  // Views count their full extent: the figure is a pressure hint for V8, not an exact budget.
  int64_t b = t.defined() ? static_cast<int64_t>(t.numel() * t.element_size()) : 0;
  slots[h].t = std::move(t);
  slots[h].bytes = b;
  liveBytes += b;
  liveCount++;
  if (b > 0) ReportExternal(env);
  return Napi::Number::New(env, h);
}

Napi::Value PutMany(Napi::Env env, std::initializer_list<at::Tensor> ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  uint32_t i = 0;
  for (const auto& t : ts) a.Set(i++, Put(env, t));
  return a;
}

Napi::Value PutList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  for (uint32_t i = 0; i < ts.size(); i++) a.Set(i, Put(env, ts[i]));
  return a;
}

at::Tensor& Get(const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "expected a tensor handle");
  int64_t h = v.As<Napi::Number>().Int64Value();
  if (h < 0 || h >= static_cast<int64_t>(slots.size()) || !slots[h].t.defined())
    throw Napi::Error::New(v.Env(), "invalid or freed tensor handle " + std::to_string(h));
  return slots[h].t;
}

at::Tensor Opt(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return at::Tensor();
  return Get(v);
}

std::vector<at::Tensor> List(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of tensor handles");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(Get(a.Get(i)));
  return out;
}

std::vector<int64_t> Ints(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

int64_t Int(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
double Num(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }
bool Bool(const Napi::Value& v) { return v.ToBoolean().Value(); }
bool Absent(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }
at::ScalarType Dtype(const Napi::Value& v) { return ToScalarType(v.Env(), static_cast<int>(Int(v))); }
at::TensorOptions Opts(const Napi::Value& v) { return at::TensorOptions().dtype(Dtype(v)); }

// A JS number as a scalar of the tensor's kind: integral tensors keep integral results (t + 1
// on int64 stays int64, as in PyTorch).
at::Scalar ScalarFor(const at::Tensor& t, const Napi::Value& v) {
  double x = Num(v);
  if (at::isIntegralType(t.scalar_type(), /*includeBool=*/false) && x == static_cast<double>(static_cast<int64_t>(x)))
    return at::Scalar(static_cast<int64_t>(x));
  return at::Scalar(x);
}

template <Napi::Value (*F)(CB)>
Napi::Value Guard(CB info) {
  try {
    return F(info);
  } catch (const c10::Error& e) {
    // torch's message without its C++ backtrace, which means nothing to a TypeScript user.
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  }
}

#define DEF(name) Napi::Value name(CB info)
#define ENV info.Env()
#define RET(expr) return Put(ENV, (expr))
#define VOID(expr) \
  expr;            \
  return ENV.Undefined()

// ---- memory, information, configuration --------------------------------------------------

DEF(free_) {
  int64_t h = Int(info[0]);
  if (h < 0 || h >= static_cast<int64_t>(slots.size()) || !slots[h].t.defined())
    throw Napi::Error::New(ENV, "free of an invalid or already freed tensor handle");
  int64_t b = slots[h].bytes;
  slots[h].t = at::Tensor();
  slots[h].bytes = 0;
  freeSlots.push_back(static_cast<uint32_t>(h));
  liveBytes -= b;
  liveCount--;
  if (b > 0) ReportExternal(ENV);
  return ENV.Undefined();
}

DEF(stats) {
  Napi::Object o = Napi::Object::New(ENV);
  o.Set("liveTensors", Napi::Number::New(ENV, static_cast<double>(liveCount)));
  o.Set("liveBytes", Napi::Number::New(ENV, static_cast<double>(liveBytes)));
  o.Set("slots", Napi::Number::New(ENV, static_cast<double>(slots.size())));
  return o;
}

DEF(shape) {
  auto s = Get(info[0]).sizes();
  Napi::Array a = Napi::Array::New(ENV, s.size());
  for (uint32_t i = 0; i < s.size(); i++) a.Set(i, Napi::Number::New(ENV, static_cast<double>(s[i])));
  return a;
}
DEF(dtype) { return Napi::Number::New(ENV, FromScalarType(Get(info[0]).scalar_type())); }
DEF(device) { return Napi::String::New(ENV, Get(info[0]).device().str()); }
DEF(isContiguous) { return Napi::Boolean::New(ENV, Get(info[0]).is_contiguous()); }
DEF(item) { return Napi::Number::New(ENV, Get(info[0]).item<double>()); }

DEF(setNumThreads) { VOID(at::set_num_threads(static_cast<int>(Int(info[0])))); }
DEF(getNumThreads) { return Napi::Number::New(ENV, at::get_num_threads()); }
DEF(manualSeed) { VOID(at::manual_seed(static_cast<uint64_t>(Int(info[0])))); }
DEF(setGradEnabled) {
  bool prev = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(Bool(info[0]));
  return Napi::Boolean::New(ENV, prev);
}
DEF(isGradEnabled) { return Napi::Boolean::New(ENV, c10::GradMode::is_enabled()); }
DEF(cudaIsAvailable) { return Napi::Boolean::New(ENV, at::hasCUDA()); }
DEF(config) { return Napi::String::New(ENV, at::show_config()); }
DEF(version) { return Napi::String::New(ENV, TORCH_VERSION); }
DEF(mallopt_) {
  // Keep freed tensor memory in the process: page faults cost more than the memory (ENGINE-NOTES).
  int ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(Int(info[0]))) &&
           mallopt(M_TRIM_THRESHOLD, static_cast<int>(Int(info[1])));
  return Napi::Boolean::New(ENV, ok != 0);
}

// ---- operator profiler ---------------------------------------------------------------------
// Per-operator call counts, total and self time through ATen's RecordFunction hooks, the numbers
// torch.autograd.profiler's key_averages() gives, so a slow step can be compared op by op.

struct ProfStat { int64_t calls = 0; double total = 0, self = 0; };
std::map<std::string, ProfStat> profStats;
std::mutex profMu;
struct ProfFrame { std::chrono::steady_clock::time_point start; double child = 0; };
thread_local std::vector<ProfFrame> profStack;
at::CallbackHandle profHandle = 0;

std::unique_ptr<at::ObserverContext> ProfEnter(const at::RecordFunction&) {
  profStack.push_back({std::chrono::steady_clock::now(), 0});
  return nullptr;
}
void ProfExit(const at::RecordFunction& fn, at::ObserverContext*) {
  if (profStack.empty()) return;  // entered before the profiler started
  ProfFrame f = profStack.back();
  profStack.pop_back();
  double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - f.start).count();
  if (!profStack.empty()) profStack.back().child += dt;
  std::lock_guard<std::mutex> lock(profMu);
  ProfStat& s = profStats[fn.name()];
  s.calls++;
  s.total += dt;
  s.self += dt - f.child;
}
DEF(profileStart) {
  if (profHandle == 0) {
    profStats.clear();
    profStack.clear();
    profHandle = at::addGlobalCallback(at::RecordFunctionCallback(ProfEnter, ProfExit));
  }
  return ENV.Undefined();
}
DEF(profileStop) {
  if (profHandle != 0) at::removeCallback(profHandle);
  profHandle = 0;
  Napi::Array out = Napi::Array::New(ENV);
  uint32_t i = 0;
  for (const auto& [name, s] : profStats) {
    Napi::Object o = Napi::Object::New(ENV);
    o.Set("name", name);
    o.Set("calls", Napi::Number::New(ENV, static_cast<double>(s.calls)));
    o.Set("totalS", Napi::Number::New(ENV, s.total));
    o.Set("selfS", Napi::Number::New(ENV, s.self));
    out.Set(i++, o);
  }
  profStats.clear();
  return out;
}

// ---- creation and data transfer ------------------------------------------------------------

DEF(fromBuffer) {
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  auto sizes = Ints(info[1]);
  at::Tensor t = at::empty(sizes, Opts(info[2]));
  size_t nbytes = t.numel() * t.element_size();
  if (nbytes != ta.ByteLength())
    throw Napi::RangeError::New(ENV, "buffer holds " + std::to_string(ta.ByteLength()) + " bytes, shape needs " +
                                         std::to_string(nbytes));
  auto* src = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  if (nbytes > 0) std::memcpy(t.data_ptr(), src, nbytes);
  RET(t);
}

DEF(toBuffer) {
  at::Tensor t = Get(info[0]).detach().to(at::kCPU).contiguous();
  size_t nbytes = t.numel() * t.element_size();
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(ENV, nbytes);
  if (nbytes > 0) std::memcpy(ab.Data(), t.data_ptr(), nbytes);
  return ab;
}

DEF(viewBuffer) {
  // Zero-copy: torch owns the memory; the ArrayBuffer keeps a reference to the storage alive.
  at::Tensor& src = Get(info[0]);
  if (!src.is_contiguous() || !src.device().is_cpu())
    throw Napi::Error::New(ENV, "viewBuffer needs a contiguous CPU tensor");
  auto* keep = new at::Tensor(src.detach());
  size_t nbytes = keep->numel() * keep->element_size();
  if (nbytes == 0) {
    delete keep;
    return Napi::ArrayBuffer::New(ENV, 0);
  }
  return Napi::ArrayBuffer::New(ENV, keep->data_ptr(), nbytes, [](Napi::Env, void*, at::Tensor* k) { delete k; }, keep);
}

DEF(zeros) { RET(at::zeros(Ints(info[0]), Opts(info[1]))); }
DEF(ones) { RET(at::ones(Ints(info[0]), Opts(info[1]))); }
DEF(full) { RET(at::full(Ints(info[0]), Num(info[1]), Opts(info[2]))); }
DEF(arange) { RET(at::arange(Num(info[0]), Num(info[1]), Num(info[2]), Opts(info[3]))); }
DEF(linspace) { RET(at::linspace(Num(info[0]), Num(info[1]), Int(info[2]), Opts(info[3]))); }
DEF(eye) { RET(at::eye(Int(info[0]), Opts(info[1]))); }
DEF(randn) { RET(at::randn(Ints(info[0]), Opts(info[1]))); }
DEF(rand) { RET(at::rand(Ints(info[0]), Opts(info[1]))); }
DEF(randint) { RET(at::randint(Int(info[0]), Int(info[1]), Ints(info[2]), at::TensorOptions().dtype(at::kLong))); }
DEF(randperm) { RET(at::randperm(Int(info[0]), at::TensorOptions().dtype(at::kLong))); }
DEF(zerosLike) { RET(at::zeros_like(Get(info[0]))); }
DEF(onesLike) { RET(at::ones_like(Get(info[0]))); }
DEF(triuIndices) { RET(at::triu_indices(Int(info[0]), Int(info[1]), Int(info[2]), at::TensorOptions().dtype(at::kLong))); }

// ---- casting, devices, shape and indexing ----------------------------------------------------

DEF(toDtype) { RET(Get(info[0]).to(Dtype(info[1]))); }
DEF(toDevice) { RET(Get(info[0]).to(c10::Device(info[1].As<Napi::String>().Utf8Value()))); }
DEF(clone) { RET(Get(info[0]).clone()); }
DEF(contiguous) { RET(Get(info[0]).contiguous()); }
DEF(reshape) { RET(Get(info[0]).reshape(Ints(info[1]))); }
DEF(permute) { RET(Get(info[0]).permute(Ints(info[1]))); }
DEF(transpose) { RET(Get(info[0]).transpose(Int(info[1]), Int(info[2]))); }
DEF(narrow) { RET(Get(info[0]).narrow(Int(info[1]), Int(info[2]), Int(info[3]))); }
DEF(select) { RET(Get(info[0]).select(Int(info[1]), Int(info[2]))); }
DEF(indexSelect) { RET(Get(info[0]).index_select(Int(info[1]), Get(info[2]))); }
DEF(gather) { RET(Get(info[0]).gather(Int(info[1]), Get(info[2]))); }
DEF(scatterAdd) { RET(Get(info[0]).scatter_add(Int(info[1]), Get(info[2]), Get(info[3]))); }
DEF(indexAdd) { RET(Get(info[0]).index_add(Int(info[1]), Get(info[2]), Get(info[3]))); }
DEF(maskedSelect) { RET(Get(info[0]).masked_select(Get(info[1]))); }
DEF(maskedFill) { RET(Get(info[0]).masked_fill(Get(info[1]), Num(info[2]))); }
DEF(where) { RET(at::where(Get(info[0]), Get(info[1]), Get(info[2]))); }
DEF(cat) { RET(at::cat(List(info[0]), Int(info[1]))); }
DEF(stack) { RET(at::stack(List(info[0]), Int(info[1]))); }
DEF(unfold) { RET(Get(info[0]).unfold(Int(info[1]), Int(info[2]), Int(info[3]))); }
DEF(expand) { RET(Get(info[0]).expand(Ints(info[1]))); }
DEF(squeeze) { RET(Absent(info[1]) ? Get(info[0]).squeeze() : Get(info[0]).squeeze(Int(info[1]))); }
DEF(unsqueeze) { RET(Get(info[0]).unsqueeze(Int(info[1]))); }
DEF(flatten) { RET(Get(info[0]).flatten(Int(info[1]), Int(info[2]))); }
DEF(flip) { RET(Get(info[0]).flip(Ints(info[1]))); }
DEF(repeat) { RET(Get(info[0]).repeat(Ints(info[1]))); }
DEF(chunk) { return PutList(ENV, Get(info[0]).chunk(Int(info[1]), Int(info[2]))); }
DEF(tril) { RET(Get(info[0]).tril(Int(info[1]))); }
DEF(triu) { RET(Get(info[0]).triu(Int(info[1]))); }
DEF(diagonal) { RET(Get(info[0]).diagonal(Int(info[1]), Int(info[2]), Int(info[3]))); }
DEF(nonzero) { RET(Get(info[0]).nonzero()); }

// ---- elementwise ------------------------------------------------------------------------------

#define UNARY(name, method) \
  DEF(name) { RET(Get(info[0]).method()); }
UNARY(neg, neg)
UNARY(abs, abs)
UNARY(exp, exp)
UNARY(log, log)
UNARY(log1p, log1p)
UNARY(expm1, expm1)
UNARY(sqrt, sqrt)
UNARY(rsqrt, rsqrt)
UNARY(tanh, tanh)
UNARY(sigmoid, sigmoid)
UNARY(relu, relu)
UNARY(sign, sign)
UNARY(floor, floor)
UNARY(ceil, ceil)
UNARY(round, round)
UNARY(reciprocal, reciprocal)
UNARY(square, square)
UNARY(isnan, isnan)
UNARY(isfinite, isfinite)
UNARY(erf, erf)
UNARY(erfinv, erfinv)
UNARY(logicalNot, logical_not)
UNARY(sin, sin)
UNARY(cos, cos)

// Tensor-tensor and tensor-scalar forms: handles and scalars are both JS numbers, so the
// scalar form has its own name (suffix s).
#define BINARY(name, method)                                       \
  DEF(name) { RET(Get(info[0]).method(Get(info[1]))); }            \
  DEF(name##s) {                                                  \
    auto& t = Get(info[0]);                                        \
    RET(t.method(ScalarFor(t, info[1])));                          \
  }
BINARY(add, add)
BINARY(sub, sub)
BINARY(mul, mul)
BINARY(div, div)
BINARY(pow, pow)
BINARY(eq, eq)
BINARY(ne, ne)
BINARY(lt, lt)
BINARY(le, le)
BINARY(gt, gt)
BINARY(ge, ge)
BINARY(fmod, fmod)

#define BINARY_T(name, method) \
  DEF(name) { RET(Get(info[0]).method(Get(info[1]))); }
BINARY_T(maximum, maximum)
BINARY_T(minimum, minimum)
BINARY_T(logicalAnd, logical_and)
BINARY_T(logicalOr, logical_or)
BINARY_T(atan2, atan2)

DEF(rsubs) { RET(at::rsub(Get(info[0]), at::Scalar(Num(info[1])))); }
DEF(addcmul) { RET(Get(info[0]).addcmul(Get(info[1]), Get(info[2]), Num(info[3]))); }
DEF(clamp) {
  c10::optional<at::Scalar> lo, hi;
  if (!Absent(info[1])) lo = Num(info[1]);
  if (!Absent(info[2])) hi = Num(info[2]);
  RET(Get(info[0]).clamp(lo, hi));
}
DEF(nanToNum) { RET(Get(info[0]).nan_to_num(Num(info[1]), Num(info[2]), Num(info[3]))); }
DEF(leakyRelu) { RET(at::leaky_relu(Get(info[0]), Num(info[1]))); }
DEF(gelu) { RET(at::gelu(Get(info[0]))); }
DEF(softmax) { RET(Get(info[0]).softmax(Int(info[1]))); }
DEF(logSoftmax) { RET(Get(info[0]).log_softmax(Int(info[1]))); }

// ---- in-place (optimizers, initialisers, buffers) --------------------------------------------

DEF(add_) { VOID(Get(info[0]).add_(Get(info[1]), Num(info[2]))); }
DEF(adds_) {
  auto& t = Get(info[0]);
  VOID(t.add_(ScalarFor(t, info[1])));
}
DEF(mul_) { VOID(Get(info[0]).mul_(Get(info[1]))); }
DEF(muls_) {
  auto& t = Get(info[0]);
  VOID(t.mul_(ScalarFor(t, info[1])));
}
DEF(div_) { VOID(Get(info[0]).div_(Get(info[1]))); }
DEF(addcmul_) { VOID(Get(info[0]).addcmul_(Get(info[1]), Get(info[2]), Num(info[3]))); }
DEF(addcdiv_) { VOID(Get(info[0]).addcdiv_(Get(info[1]), Get(info[2]), Num(info[3]))); }
DEF(copy_) { VOID(Get(info[0]).copy_(Get(info[1]))); }
DEF(zero_) { VOID(Get(info[0]).zero_()); }
DEF(fill_) { VOID(Get(info[0]).fill_(Num(info[1]))); }
DEF(normal_) { VOID(Get(info[0]).normal_(Num(info[1]), Num(info[2]))); }
DEF(uniform_) { VOID(Get(info[0]).uniform_(Num(info[1]), Num(info[2]))); }
DEF(erfinv_) { VOID(Get(info[0]).erfinv_()); }
DEF(clamp_) { VOID(Get(info[0]).clamp_(Num(info[1]), Num(info[2]))); }
DEF(maskedFill_) { VOID(Get(info[0]).masked_fill_(Get(info[1]), Num(info[2]))); }

// ---- reductions --------------------------------------------------------------------------------

DEF(sum) { RET(Absent(info[1]) ? Get(info[0]).sum() : Get(info[0]).sum(Ints(info[1]), Bool(info[2]))); }
DEF(mean) { RET(Absent(info[1]) ? Get(info[0]).mean() : Get(info[0]).mean(Ints(info[1]), Bool(info[2]))); }
DEF(nansum) { RET(Absent(info[1]) ? Get(info[0]).nansum() : Get(info[0]).nansum(Ints(info[1]), Bool(info[2]))); }
DEF(nanmean) {
  RET(Absent(info[1]) ? Get(info[0]).nanmean() : Get(info[0]).nanmean(Ints(info[1]), Bool(info[2])));
}
DEF(var) {
  RET(Absent(info[1]) ? Get(info[0]).var(Bool(info[2])) : Get(info[0]).var(Ints(info[1]), Bool(info[2]), Bool(info[3])));
}
DEF(std) {
  RET(Absent(info[1]) ? Get(info[0]).std(Bool(info[2])) : Get(info[0]).std(Ints(info[1]), Bool(info[2]), Bool(info[3])));
}
DEF(amax) { RET(Get(info[0]).amax(Ints(info[1]), Bool(info[2]))); }
DEF(amin) { RET(Get(info[0]).amin(Ints(info[1]), Bool(info[2]))); }
DEF(max) { RET(Get(info[0]).max()); }
DEF(min) { RET(Get(info[0]).min()); }
DEF(maxDim) {
  auto r = Get(info[0]).max(Int(info[1]), Bool(info[2]));
  return PutMany(ENV, {std::get<0>(r), std::get<1>(r)});
}
DEF(minDim) {
  auto r = Get(info[0]).min(Int(info[1]), Bool(info[2]));
  return PutMany(ENV, {std::get<0>(r), std::get<1>(r)});
}
DEF(argmax) { RET(Get(info[0]).argmax(Int(info[1]), Bool(info[2]))); }
DEF(argmin) { RET(Get(info[0]).argmin(Int(info[1]), Bool(info[2]))); }
DEF(sort) {
  auto r = Get(info[0]).sort(/*stable=*/true, Int(info[1]), Bool(info[2]));
  return PutMany(ENV, {std::get<0>(r), std::get<1>(r)});
}
DEF(topk) {
  auto r = Get(info[0]).topk(Int(info[1]), Int(info[2]), Bool(info[3]), true);
  return PutMany(ENV, {std::get<0>(r), std::get<1>(r)});
}
DEF(cumsum) { RET(Get(info[0]).cumsum(Int(info[1]))); }
DEF(cumprod) { RET(Get(info[0]).cumprod(Int(info[1]))); }
DEF(anyAll) { RET(Bool(info[1]) ? Get(info[0]).all() : Get(info[0]).any()); }

// ---- linear algebra ------------------------------------------------------------------------

DEF(matmul) { RET(Get(info[0]).matmul(Get(info[1]))); }
DEF(mm) { RET(Get(info[0]).mm(Get(info[1]))); }
DEF(bmm) { RET(Get(info[0]).bmm(Get(info[1]))); }
DEF(cholesky) { RET(at::linalg_cholesky(Get(info[0]), Bool(info[1]))); }
DEF(choleskySolve) { RET(at::cholesky_solve(Get(info[0]), Get(info[1]), Bool(info[2]))); }
DEF(solve) { RET(at::linalg_solve(Get(info[0]), Get(info[1]))); }
DEF(lstsq) {
  // gelsd (SVD based) copes with rank-deficient systems, such as collinear exposures.
  auto r = at::linalg_lstsq(Get(info[0]), Get(info[1]), c10::nullopt, c10::string_view("gelsd"));
  return PutMany(ENV, {std::get<0>(r), std::get<2>(r)});
}
DEF(qr) {
  auto r = at::linalg_qr(Get(info[0]));
  return PutMany(ENV, {std::get<0>(r), std::get<1>(r)});
}
DEF(inv) { RET(at::linalg_inv(Get(info[0]))); }
DEF(pinv) { RET(at::linalg_pinv(Get(info[0]))); }
DEF(eigh) {
  auto r = at::linalg_eigh(Get(info[0]));
  return PutMany(ENV, {std::get<0>(r), std::get<1>(r)});
}

// ---- fused layer functions ----------------------------------------------------------------------

DEF(linear) { RET(at::linear(Get(info[0]), Get(info[1]), Opt(info[2]))); }

// lstm(input, [h0, c0], params, hasBiases, numLayers, dropout, train, bidirectional, batchFirst)
DEF(lstm) {
  auto r = at::lstm(Get(info[0]), List(info[1]), List(info[2]), Bool(info[3]), Int(info[4]), Num(info[5]), Bool(info[6]),
                    Bool(info[7]), Bool(info[8]));
  return PutMany(ENV, {std::get<0>(r), std::get<1>(r), std::get<2>(r)});
}

// gru(input, h0, params, hasBiases, numLayers, dropout, train, bidirectional, batchFirst)
DEF(gru) {
  auto r = at::gru(Get(info[0]), Get(info[1]), List(info[2]), Bool(info[3]), Int(info[4]), Num(info[5]), Bool(info[6]),
                   Bool(info[7]), Bool(info[8]));
  return PutMany(ENV, {std::get<0>(r), std::get<1>(r)});
}

// batchNorm(input, weight, bias, runningMean, runningVar, training, momentum, eps)
DEF(batchNorm) {
  RET(at::batch_norm(Get(info[0]), Opt(info[1]), Opt(info[2]), Opt(info[3]), Opt(info[4]), Bool(info[5]), Num(info[6]),
                     Num(info[7]), false));
}
DEF(layerNorm) { RET(at::layer_norm(Get(info[0]), Ints(info[1]), Opt(info[2]), Opt(info[3]), Num(info[4]), false)); }
DEF(dropout) { RET(at::dropout(Get(info[0]), Num(info[1]), Bool(info[2]))); }

// The fused inference path of a Transformer encoder layer (what PyTorch itself runs in eval mode
// without gradients): transformerEncoderLayerFwd(src, embedDim, heads, qkvW, qkvB, projW, projB,
// useGelu, normFirst, eps, norm1W, norm1B, norm2W, norm2B, ffn1W, ffn1B, ffn2W, ffn2B)
DEF(transformerEncoderLayerFwd) {
  RET(at::_transformer_encoder_layer_fwd(Get(info[0]), Int(info[1]), Int(info[2]), Get(info[3]), Get(info[4]), Get(info[5]),
                                         Get(info[6]), Bool(info[7]), Bool(info[8]), Num(info[9]), Get(info[10]), Get(info[11]),
                                         Get(info[12]), Get(info[13]), Get(info[14]), Get(info[15]), Get(info[16]), Get(info[17])));
}

// ---- autograd ----------------------------------------------------------------------------------

DEF(requiresGrad_) { VOID(Get(info[0]).requires_grad_(Bool(info[1]))); }
DEF(requiresGrad) { return Napi::Boolean::New(ENV, Get(info[0]).requires_grad()); }
DEF(backward) {
  at::Tensor g = Opt(info[1]);
  VOID(Get(info[0]).backward(g, Bool(info[2]), false));
}
DEF(grad) {
  const at::Tensor& g = Get(info[0]).grad();
  if (!g.defined()) return ENV.Null();
  RET(g);
}
DEF(setGrad) {
  at::Tensor& t = Get(info[0]);
  if (Absent(info[1])) {
    t.mutable_grad().reset();
  } else {
    t.mutable_grad() = Get(info[1]);
  }
  return ENV.Undefined();
}
DEF(detach) { RET(Get(info[0]).detach()); }

#define REG(name) exports.Set(#name, Napi::Function::New(env, Guard<name>, #name))
#define REG_AS(js, name) exports.Set(js, Napi::Function::New(env, Guard<name>, js))

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  REG_AS("free", free_);
  REG(stats);
  REG(shape);
  REG(dtype);
  REG(device);
  REG(isContiguous);
  REG(item);
  REG(setNumThreads);
  REG(getNumThreads);
  REG(manualSeed);
  REG(setGradEnabled);
  REG(isGradEnabled);
  REG(cudaIsAvailable);
  REG(config);
  REG(version);
  REG_AS("mallopt", mallopt_);
  REG(profileStart);
  REG(profileStop);

  REG(fromBuffer);
  REG(toBuffer);
  REG(viewBuffer);
  REG(zeros);
  REG(ones);
  REG(full);
  REG(arange);
  REG(linspace);
  REG(eye);
  REG(randn);
  REG(rand);
  REG(randint);
  REG(randperm);
  REG(zerosLike);
  REG(onesLike);
  REG(triuIndices);

  REG(toDtype);
  REG(toDevice);
  REG(clone);
  REG(contiguous);
  REG(reshape);
  REG(permute);
  REG(transpose);
  REG(narrow);
  REG(select);
  REG(indexSelect);
  REG(gather);
  REG(scatterAdd);
  REG(indexAdd);
  REG(maskedSelect);
  REG(maskedFill);
  REG(where);
  REG(cat);
  REG(stack);
  REG(unfold);
  REG(expand);
  REG(squeeze);
  REG(unsqueeze);
  REG(flatten);
  REG(flip);
  REG(repeat);
  REG(chunk);
  REG(tril);
  REG(triu);
  REG(diagonal);
  REG(nonzero);

  REG(neg);
  REG(abs);
  REG(exp);
  REG(log);
  REG(log1p);
  REG(expm1);
  REG(sqrt);
  REG(rsqrt);
  REG(tanh);
  REG(sigmoid);
  REG(relu);
  REG(sign);
  REG(floor);
  REG(ceil);
  REG(round);
  REG(reciprocal);
  REG(square);
  REG(isnan);
  REG(isfinite);
  REG(erf);
  REG(erfinv);
  REG(logicalNot);
  REG(sin);
  REG(cos);
  REG(add);
  REG(adds);
  REG(sub);
  REG(subs);
  REG(mul);
  REG(muls);
  REG(div);
  REG(divs);
  REG(pow);
  REG(pows);
  REG(eq);
  REG(eqs);
  REG(ne);
  REG(nes);
  REG(lt);
  REG(lts);
  REG(le);
  REG(les);
  REG(gt);
  REG(gts);
  REG(ge);
  REG(ges);
  REG(fmod);
  REG(fmods);
  REG(maximum);
  REG(minimum);
  REG(logicalAnd);
  REG(logicalOr);
  REG(atan2);
  REG(rsubs);
  REG(addcmul);
  REG(clamp);
  REG(nanToNum);
  REG(leakyRelu);
  REG(gelu);
  REG(softmax);
  REG(logSoftmax);

  REG(add_);
  REG(adds_);
  REG(mul_);
  REG(muls_);
  REG(div_);
  REG(addcmul_);
  REG(addcdiv_);
  REG(copy_);
  REG(zero_);
  REG(fill_);
  REG(normal_);
  REG(uniform_);
  REG(erfinv_);
  REG(clamp_);
  REG(maskedFill_);

  REG(sum);
  REG(mean);
  REG(nansum);
  REG(nanmean);
  REG(var);
  REG(std);
  REG(amax);
  REG(amin);
  REG(max);
  REG(min);
  REG(maxDim);
  REG(minDim);
  REG(argmax);
  REG(argmin);
  REG(sort);
  REG(topk);
  REG(cumsum);
  REG(cumprod);
  REG(anyAll);

  REG(matmul);
  REG(mm);
  REG(bmm);
  REG(cholesky);
  REG(choleskySolve);
  REG(solve);
  REG(lstsq);
  REG(qr);
  REG(inv);
  REG(pinv);
  REG(eigh);

  REG(linear);
  REG(lstm);
  REG(gru);
  REG(batchNorm);
  REG(layerNorm);
  REG(dropout);
  REG(transformerEncoderLayerFwd);

  REG(requiresGrad_);
  REG(requiresGrad);
  REG(backward);
  REG(grad);
  REG(setGrad);
  REG(detach);
  return exports;
}

}  // namespace

NODE_API_MODULE(alphanet_native, Init)
