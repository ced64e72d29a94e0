// The rating core's public surface, for the store, the HTTP API, the CLI and the charging engine.
// Everything here is pure: no I/O, no clock, no environment.
//
// Typical use:
//   const loaded = loadTollgateCsv(text, { onProgress });           // or an importer + buildTariffIndex
//   if (loaded.ok) registry.install(loaded.value);                   // swap in, readers never pause
//   const route = selectRoute({ catalog: registry.current(), plan, dialled, startMs });
//   if (route.ok) allowance(route.value.rate, startMs, balanceMinor); // seconds to grant
//   cost(route.value.rate, startMs, usedSeconds);                   // minor units to post

export {
  type A2BillingColumn,
  type A2BillingImportOptions,
  a2billingColumns,
  importA2BillingRatecard,
} from './a2billing-import.ts';
export {
  type CgratesImportOptions,
  type CgratesTariffPlanFiles,
  importCgratesTariffPlan,
} from './cgrates-import.ts';
export { type AllowanceOptions, allowance, cost, exactCostSixtieths } from './cost.ts';
export {
  formatImportIssues,
  type ImportIssue,
  type ImportResult,
  importErrorsMax,
} from './import-issues.ts';
export { PrefixIndex, PrefixIndexBuilder, type PrefixMatch } from './prefix-index.ts';
export {
  formatPrice,
  formatPriceNanos,
  nanosPerMajor,
  type Price,
  type PriceRefusalCode,
  parsePrice,
  parsePriceNanos,
  priceToMinor,
} from './price.ts';
export { type RateContext, rateContext } from './rate-context.ts';
export {
  decodeRate,
  encodeRate,
  type RateJson,
  type RatePeriodJson,
  type RateTermsJson,
} from './rate-json.ts';
export {
  type CarrierSelection,
  dialledDigitsMax,
  type Route,
  type RouteRefusalCode,
  type RoutingPlan,
  referenceDurationSecondsDefault,
  selectRoute,
} from './select-route.ts';
export {
  callDurationSecondsLimit,
  callDurationSecondsMax,
  type Destination,
  type IsoWeekday,
  incrementSecondsMax,
  isVersionInForce,
  type PeriodPolicy,
  type PrefixRoute,
  periodPolicies,
  prefixDigitsMax,
  type Rate,
  type RatePeriod,
  type RateTerms,
  rateProblems,
  roundingModeDefault,
  type TariffData,
  type TariffVersion,
  versionProblems,
} from './tariff.ts';
export {
  buildTariffIndex,
  TariffIndex,
  TariffIndexBuilder,
  type TariffMatch,
  tariffDataProblems,
} from './tariff-index.ts';
export { TariffCatalog, TariffRegistry } from './tariff-registry.ts';
export {
  catchAllPrefixText,
  exportTollgateCsv,
  importTollgateCsv,
  loadTollgateCsv,
  progressEveryLines,
  TollgateCsvLoader,
  type TollgateCsvOptions,
  tollgateCsvColumns,
} from './tollgate-csv.ts';
