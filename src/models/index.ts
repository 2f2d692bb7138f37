/** The AlphaNet models. */
export { AlphaNetV4, ALPHANET_V4_DEFAULTS, type AlphaNetV4Config } from "./alphanetv4.js";
