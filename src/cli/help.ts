/** The command line's help: the commands, the run options, and each command's own text. */

export const HELP = `alphanet: mine stock-selection alphas with AlphaNetV4

usage: alphanet <command> [options]

commands:
  demo       the whole pipeline on the embedded synthetic market, with the report
  run        the whole pipeline on your data: ingest, features, rolling training, evaluation, report
  ingest     load and validate a bar file or Qlib directory; write the quality report (and a Qlib copy)
  features   build the feature store of a dataset
  train      rolling training of the chosen models (as run: factors, saved models, evaluation)
  predict    score the stocks on the latest dates with a saved model
  evaluate   evaluate a factor CSV (date,code,factor) against a dataset
  bench      benchmarks that print JSON: train, features, load

Run 'alphanet <command> --help' for a command's options.`;

const RUN_HELP = `options (flags override the configuration file):
  --config FILE            a YAML or JSON configuration (keys as in README's configuration reference)
  --data FILE|DIR          a long CSV/Parquet bar file or a Qlib directory (default: the synthetic market)
  --preset NAME            tushare, akshare, baostock or canonical column names and units
  --map col=field,...      source column -> canonical field (e.g. trade_date=date,vol=volume)
  --universe-column COL    a 0/1 point-in-time membership column
  --instruments FILE       static stock attributes: code, industry, list_date, total_shares
  --price-basis TEXT       what the prices are (e.g. "split-adjusted"), when the data has no adj_factor
  --market auto|cn|us|other  the market's rules (default: from the codes)   --encoding utf8|gbk   a CSV's text encoding
  --pad-codes              pad A-share codes that lost their leading zeros in a spreadsheet (1 -> 000001)
  --models v1,v3,v4        models to train (v1, v2, v3, v4)       --ablations   also V4's chapter-4 ablations
  --baseline-inputs own|v4 V1-V3 on their own inputs (V1's 9, V2/V3's 15, no Spearman dropout) or V4's (default)
  --train-start DATE --test-start DATE --test-end DATE --retrain-months N
  --valid-days N           the validation tail in trading days (default: 20% of the training span, at least 40)
  --refit                  after early stopping, retrain on train + validation for the chosen epochs, then predict
  --sample-step K          training samples every K days        --max-epochs N   --horizon H
  --costs paper|realistic  --seed N   --threads N   --jobs N   --out DIR   --resume
  --seeds N                train N seeds per model and window (seed .. seed+N-1); the factor is their mean`;

/** Each command's help (`alphanet <command> --help`). */
export const COMMAND_HELP: Record<string, string> = {
  demo: `alphanet demo [--quick | --paper-scale] [run options]
The synthetic market on the paper's calendar (2016-01-01 to 2021-06-01), V1, V3 and V4 with rolling
retraining every 6 months from 2019-01-01, the evaluation and the report, in out/demo by default.
--quick: a small market and 2 test windows (about 3 minutes). --paper-scale: 3,000 stocks and the
paper's 90-epoch protocol (hours on a CPU; see README).\n\n${RUN_HELP}`,
  run: `alphanet run [options]: the whole pipeline on your data.\n\n${RUN_HELP}`,
  train: `alphanet train [options]: rolling training of the chosen models; factors, saved models and checkpoints in --out, then the evaluation (the same as run).\n\n${RUN_HELP}`,
  ingest: `alphanet ingest --data FILE|DIR [--preset NAME] [--map col=field,...] [--instruments FILE] [--market auto|cn|us|other]\n  [--encoding utf8|gbk] [--pad-codes] [--out DIR] [--qlib]\nValidates and cleans the data, writes data_quality.json (and a Qlib directory with --qlib): every line of the file is\naccounted for; a value that cannot be read stops with its file, line and column.`,
  features: `alphanet features [--data FILE] [--out DIR] [--config FILE]\nBuilds the feature store (computed once per data and settings) under OUT/cache/features.`,
  predict: `alphanet predict --model DIR --data FILE [--out DIR]\nScores every eligible stock on the last date of the data with a saved model; writes OUT/scores.csv.`,
  evaluate: `alphanet evaluate --factor FILE [--factor-column NAME] --data FILE [--horizon H] [--costs paper|realistic] [data options]\nIC test and quintile stratification of any factor (CSV: date,code,factor), read as bar files are: every row accounted for.`,
  report: `alphanet report --out DIR\nThe report of a finished run is OUT/report.html, written by run and demo.`,
  bench: `alphanet bench train|features|load [--threads N] [--peer] [--rounds R] [--stocks N --days N] [FILE]`,
};
