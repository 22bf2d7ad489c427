/**
 * The embedded simulated exchange: SimGateway (what `rpcservice serve` runs by default), its settings, the
 * contract specs and contracts-file loader, and SimVenue for using the exchange without an event engine.
 */
export { SimGateway } from "./gateway.js";
export { SimError, type SimErrorCode } from "./errors.js";
export { parseSimSetting, SIM_DEFAULT_SETTING, MAX_TICKS_PER_SECOND, type SimSettings } from "./settings.js";
export { loadContractsFile, parseContractSpecs, specToJson, type SimContractSpec, type SimOptionSpec } from "./spec.js";
export { defaultUniverse } from "./universe.js";
export type { Book, BookLevel } from "./model.js";
export { SimVenue, MAX_HISTORY_BARS, type OrderOutcome, type RejectCode, type VenueCancelCode, type VenueOptions, type VenueSink } from "./venue.js";
export { SimStore, MEMORY_STORE, JOURNAL_FILENAME, resetJournal, type StoreOptions } from "./store.js";
export { ManualClock, SYSTEM_CLOCK, type SimClock } from "./time.js";
