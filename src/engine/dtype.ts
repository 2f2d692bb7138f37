/** Element types a Tensor can hold; the codes are shared with native/tensor.cc. */
export enum DType {
  float32 = 0,
  float64 = 1,
  int64 = 2,
  bool = 3,
  bfloat16 = 4,
  int32 = 5,
  uint8 = 6,
  float16 = 7,
}

export type TypedArray =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Uint8Array
  | Uint16Array;

/** The typed array that holds each dtype's raw bytes (bfloat16 and float16 as raw 16-bit words). */
export function typedArrayFor(dtype: DType, buffer: ArrayBuffer): TypedArray {
  switch (dtype) {
    case DType.float32: return new Float32Array(buffer);
    case DType.float64: return new Float64Array(buffer);
    case DType.int64: return new BigInt64Array(buffer);
    case DType.int32: return new Int32Array(buffer);
    case DType.bool:
    case DType.uint8: return new Uint8Array(buffer);
    case DType.bfloat16:
    case DType.float16: return new Uint16Array(buffer);
  }
}

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case DType.float64:
    case DType.int64: return 8;
    case DType.float32:
    case DType.int32: return 4;
    case DType.bfloat16:
    case DType.float16: return 2;
    case DType.bool:
    case DType.uint8: return 1;
  }
}

/** The dtype a typed array is read as when no dtype is given. */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return DType.float32;
  if (a instanceof Float64Array) return DType.float64;
  if (a instanceof BigInt64Array) return DType.int64;
  if (a instanceof Int32Array) return DType.int32;
  if (a instanceof Uint8Array) return DType.uint8;
  throw new TypeError("a Uint16Array is ambiguous: pass dtype bfloat16 or float16");
}

/** safetensors' names for the dtypes. */
export const SAFETENSORS_DTYPE: Record<DType, string> = {
  [DType.float32]: "F32",
  [DType.float64]: "F64",
  [DType.int64]: "I64",
  [DType.bool]: "BOOL",
  [DType.bfloat16]: "BF16",
  [DType.int32]: "I32",
  [DType.uint8]: "U8",
  [DType.float16]: "F16",
};
