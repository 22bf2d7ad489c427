/** The embedded simulated exchange: SimGateway, its venue, contract specs and the contracts-file loader. */
export { SimGateway } from "./gateway.js";
export { SimError, type SimErrorCode } from "./errors.js";
export { parseSimSetting, SIM_DEFAULT_SETTING, MAX_TICKS_PER_SECOND, type SimSettings } from "./settings.js";
export {
  checkUniverse,
  loadContractsFile,
  parseContractSpec,
  parseContractSpecs,
  specToJson,
  specVtSymbol,
  toContractData,
  type SimContractSpec,
  type SimOptionSpec,
} from "./spec.js";
export { defaultUniverse } from "./universe.js";
export { ContractModel, black76, type Book, type BookLevel, type DayLimits, type TickPrint } from "./model.js";
export { historyBars, historyBarsAsync, minuteBars, aggregateBars, type BarValues, type DayBarCache, type HistoryQuery } from "./history.js";
export { SimVenue, MAX_HISTORY_BARS, type OrderOutcome, type RejectCode, type VenueCancelCode, type VenueOptions, type VenueSink } from "./venue.js";
export { LiveMarket } from "./market.js";
export { SimStore, MEMORY_STORE, type StoreOptions } from "./store.js";
export { ManualClock, SYSTEM_CLOCK, chinaDateTime, type SimClock } from "./time.js";
