import { render } from "preact";
import { connect } from "./actions";
import { App } from "./components/app";
import { store } from "./store";
import "./styles.css";

render(<App store={store} />, document.getElementById("app")!);
connect();
