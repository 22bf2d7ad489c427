/** Runs the browser tests' server by hand, to look at the page: node dist/test/console/serve-fixture.js [port] */
import { startConsoleFixture } from "./fixture.js";

const fixture = await startConsoleFixture(Number(process.argv[2] ?? 8080));
console.log(`console: ${fixture.started.urlWithToken}`);
const stop = () => void fixture.stop().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
setInterval(() => {}, 1 << 30);
