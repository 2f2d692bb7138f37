export { Module, ModuleList, type StateDict } from "./module.js";
export { Linear } from "./linear.js";
export { LSTM, GRU, type RnnOptions } from "./rnn.js";
export { BatchNorm1d, LayerNorm, Dropout } from "./norm.js";
export { MultiheadAttention, TransformerEncoderLayer, sinusoidalPositions, type MultiheadAttentionOptions,
  type TransformerEncoderLayerOptions } from "./transformer.js";
export * as functional from "./functional.js";
export * as init from "./init.js";
