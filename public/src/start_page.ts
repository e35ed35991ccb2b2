/** The start page (`/`): make a new map and open it as its editor, with the share dialog showing. */
import { byId } from "./dom.ts";

interface Created {
  id: string;
  editKey: string;
  viewKey: string;
}

function isCreated(value: unknown): value is Created {
  return typeof value === "object" && value !== null && "id" in value &&
    typeof value.id === "string" && "editKey" in value &&
    typeof value.editKey === "string" &&
    "viewKey" in value && typeof value.viewKey === "string";
}

function main(): void {
  const form = byId("create", HTMLFormElement);
  const title = byId("title", HTMLInputElement);
  const button = byId("create-button", HTMLButtonElement);
  const error = byId("create-error", HTMLElement);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    button.textContent = "Creating…";
    error.hidden = true;
    try {
      const text = title.value.trim();
      const res = await fetch("/api/maps", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(text ? { title: text } : {}),
      });
      const body: unknown = await res.json().catch(() => null);
      if (res.status !== 201 || !isCreated(body)) {
        throw new Error(`the server answered ${res.status}`);
      }
      // The view key rides in the fragment once, so the map page can offer the view-only link.
      location.assign(
        `/m/${encodeURIComponent(body.id)}#key=${encodeURIComponent(body.editKey)}&view=${
          encodeURIComponent(body.viewKey)
        }&share=1`,
      );
    } catch (err) {
      error.textContent = `Could not create the map: ${
        err instanceof Error ? err.message : err
      }. Try again in a moment.`;
      error.hidden = false;
      button.disabled = false;
      button.textContent = "Create map";
    }
  });
}

main();
