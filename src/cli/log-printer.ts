/** Prints log lines to a terminal: time, level, source, message. */
import { ERROR, INFO, WARNING, type LogData } from "../kernel/index.js";

function levelName(level: number): string {
  if (level >= ERROR) return "ERROR";
  if (level >= WARNING) return "WARN ";
  if (level >= INFO) return "INFO ";
  return "DEBUG";
}

export function formatLog(log: LogData): string {
  const time = log.time.toString().replace(/(\.\d{3})\d{3}$/, "$1");
  return `${time}  ${levelName(log.level)}  ${log.gateway_name.padEnd(12)} ${log.msg}`;
}
