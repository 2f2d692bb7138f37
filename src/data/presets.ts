/**
 * Column presets for common Chinese data sources, converting their units to the canonical ones:
 * Tushare (`daily`, `daily_basic`, `adj_factor`, merged on ts_code and trade_date), AKShare
 * (stock_zh_a_hist, Chinese column names) and Baostock (query_history_k_data_plus).
 */

/** The columns a bar file can map to: the panel's fields plus keys and static attributes. */
export type SourceColumn =
  | "date" | "code" | "open" | "high" | "low" | "close" | "pre_close" | "vwap" | "volume" | "amount" | "turnover"
  | "free_turnover" | "market_cap" | "float_cap" | "total_shares" | "float_shares" | "is_st" | "is_suspended"
  | "is_trading" | "limit_up" | "limit_down" | "adj_factor" | "industry" | "universe" | "pe_ttm" | "pb" | "growth" | "leverage";

export const SOURCE_COLUMNS: SourceColumn[] = [
  "date", "code", "open", "high", "low", "close", "pre_close", "vwap", "volume", "amount", "turnover", "free_turnover",
  "market_cap", "float_cap", "total_shares", "float_shares", "is_st", "is_suspended", "is_trading", "limit_up",
  "limit_down", "adj_factor", "industry", "universe", "pe_ttm", "pb", "growth", "leverage",
];

export interface Preset {
  name: string;
  /** canonical column -> the source's column name (absent columns are optional). */
  columns: Partial<Record<SourceColumn, string>>;
  /** canonical column -> factor that converts the source's unit to the canonical one. */
  scale: Partial<Record<SourceColumn, number>>;
  /** Why each factor: shown in the quality report. */
  units: Partial<Record<SourceColumn, string>>;
}

const canonical: Preset = {
  name: "canonical",
  columns: Object.fromEntries(SOURCE_COLUMNS.map((c) => [c, c])),
  scale: {},
  units: {},
};

export const PRESETS: Record<string, Preset> = {
  canonical,
  tushare: {
    name: "tushare",
    columns: {
      date: "trade_date", code: "ts_code", open: "open", high: "high", low: "low", close: "close", pre_close: "pre_close",
      volume: "vol", amount: "amount", turnover: "turnover_rate", free_turnover: "turnover_rate_f",
      market_cap: "total_mv", float_cap: "circ_mv", total_shares: "total_share", float_shares: "float_share",
      adj_factor: "adj_factor", industry: "industry", pe_ttm: "pe_ttm", pb: "pb",
    },
    scale: {
      volume: 100, amount: 1000, turnover: 0.01, free_turnover: 0.01, market_cap: 1e4, float_cap: 1e4,
      total_shares: 1e4, float_shares: 1e4,
    },
    units: {
      volume: "lots of 100 shares", amount: "thousands of CNY", turnover: "percent", free_turnover: "percent",
      market_cap: "10,000 CNY", float_cap: "10,000 CNY", total_shares: "10,000 shares", float_shares: "10,000 shares",
    },
  },
  akshare: {
    name: "akshare",
    columns: {
      date: "日期", code: "股票代码", open: "开盘", close: "收盘", high: "最高", low: "最低", volume: "成交量",
      amount: "成交额", turnover: "换手率",
    },
    scale: { volume: 100, turnover: 0.01 },
    units: { volume: "lots of 100 shares", turnover: "percent" },
  },
  baostock: {
    name: "baostock",
    columns: {
      date: "date", code: "code", open: "open", high: "high", low: "low", close: "close", pre_close: "preclose",
      volume: "volume", amount: "amount", turnover: "turn", is_trading: "tradestatus", is_st: "isST",
    },
    scale: { turnover: 0.01 },
    units: { turnover: "percent" },
  },
};

/** 600000.SH, sh.600000, SH600000 and a bare 600000 all become SH600000 (Qlib's form); other codes are returned as they are. */
export function normalizeAshareCode(code: string): string {
  const c = code.trim();
  let m = /^(\d{6})\.(SH|SZ|BJ)$/i.exec(c);
  if (m) return m[2].toUpperCase() + m[1];
  m = /^(SH|SZ|BJ)\.?(\d{6})$/i.exec(c);
  if (m) return m[1].toUpperCase() + m[2];
  m = /^(\d{6})$/.exec(c);
  if (m) return exchangeOf(c) + c;
  return c;
}

/** The exchange of a bare 6-digit A-share code: 6 and 9 Shanghai, 4 and 8 Beijing, the rest Shenzhen. */
const exchangeOf = (digits: string): string => (/^[69]/.test(digits) ? "SH" : /^[48]/.test(digits) ? "BJ" : "SZ");

/** A code in one of the A-share forms normalizeAshareCode understands. */
export const isAshareCode = (c: string): boolean => /^(\d{6}\.(SH|SZ|BJ)|(SH|SZ|BJ)\.?\d{6}|\d{6})$/i.test(c.trim());
/** A code of 1 to 5 digits: an A-share code whose leading zeros were lost (Excel reads 000001 as 1). */
export const isShortDigitCode = (c: string): boolean => /^\d{1,5}$/.test(c.trim());
const isTicker = (c: string): boolean => /^[A-Z][A-Z0-9.\-]{0,6}$/.test(c.trim());

/**
 * The market that a file's codes belong to, judged on every distinct code (not on a sample, and not
 * on one form): A-shares when most codes are in an A-share form (any mix of 600000.SH, sh600000,
 * SH600000, sh.600000 and 600000, or digits only: codes that lost their leading zeros); US when every code is a
 * ticker; else other.
 */
export function marketOfCodes(codes: Iterable<string>): "cn" | "us" | "other" {
  let n = 0, ashare = 0, short = 0, ticker = 0;
  for (const c of codes) {
    n++;
    if (isAshareCode(c)) ashare++;
    else if (isShortDigitCode(c)) short++;
    else if (isTicker(c)) ticker++;
  }
  if (n > 0 && 2 * (ashare + short) > n) return "cn";
  return n > 0 && ticker === n ? "us" : "other";
}

/**
 * The one code normaliser of loads, factor files and predictions. In an A-share market each code is
 * normalised on its own (mixed forms are one stock); a code that lost its leading zeros is an error
 * unless `padCodes` (then 1 becomes 000001, i.e. SZ000001), and a code in no A-share form is an error.
 * The error is the reason (the caller names the file and line); elsewhere codes are kept as given.
 */
export function normalizeCode(code: string, market: "cn" | "us" | "other", padCodes = false): { code: string } | { error: string } {
  const c = code.trim();
  if (market !== "cn") return { code: c };
  if (isAshareCode(c)) return { code: normalizeAshareCode(c) };
  if (isShortDigitCode(c)) {
    if (padCodes) return { code: normalizeAshareCode(c.padStart(6, "0")) };
    return { error: `code "${c}" has lost its leading zeros (A-share codes have 6 digits: a spreadsheet reads 000001 as 1); ` +
      `keep the column as text when saving, or pass --pad-codes to pad such codes to 6 digits (codes of another market: --market other)` };
  }
  return { error: `code "${c}" is not an A-share code (expected 600000.SH, SH600000, sh.600000 or 600000, as the file's other codes are); ` +
    `pass --market other to read the codes as they are` };
}
