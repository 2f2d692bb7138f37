/**
 * The compute engine: libtorch through a native addon, with a PyTorch-shaped API.
 *
 *   import { tensor, nn, optim, scope } from "alphanet/engine";
 */
export {
  Tensor, DType, tensor, zeros, ones, full, randn, rand, randint, randperm, arange, linspace, eye, zerosLike,
  onesLike, triuIndices, cat, stack, where, linalg, scope, keep, noGrad, isGradEnabled, manualSeed, setNumThreads, getNumThreads,
  memoryStats, profile, setDefaultDtype, getDefaultDtype, torchVersion, cudaIsAvailable, type TypedArray, type TensorOptions, type TensorLike, type OpProfile,
} from "./tensor.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim.js";
export {
  encodeSafetensors, decodeSafetensors, parseSafetensorsHeader, readSafetensorsFile, saveSafetensors, loadSafetensors, saveModel, loadModel,
  SafetensorsError, type SafetensorsEntry,
} from "./safetensors.js";
export { DEFAULT_THREADS } from "./native.js";
