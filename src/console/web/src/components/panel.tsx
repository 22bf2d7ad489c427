/** The frame every panel shares: a title bar with optional tools on the right, a scrolling body. */
import type { ComponentChildren } from "preact";

export function Panel(props: { title: string; tools?: ComponentChildren; children: ComponentChildren; testid: string; class?: string }) {
  return (
    <section class={`panel ${props.class ?? ""}`} data-testid={props.testid}>
      <header class="panel-head">
        <h2>{props.title}</h2>
        <div class="tools">{props.tools}</div>
      </header>
      <div class="panel-body">{props.children}</div>
    </section>
  );
}

export function Empty(props: { columns: number; text: string }) {
  return (
    <tr class="empty">
      <td colSpan={props.columns}>{props.text}</td>
    </tr>
  );
}
