/** The shared store suite (relay/_store_contract.ts) on the SQLite store, on a real file. */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { historyContract, historyStepsContract, storeContract } from "./_store_contract.ts";
import type { StoreDatabaseFactory } from "./_store_contract.ts";
import { Store } from "./store.ts";
import { InlineHistoryReader } from "./history_reader.ts";

Deno.test("SQLite store passes the shared store suite", async (t) => {
  const fresh: StoreDatabaseFactory = async () => {
    const dir = await Deno.makeTempDir({ prefix: "duplexmap-contract-" });
    const path = join(dir, "duplexmap.sqlite");
    return {
      open: () => Promise.resolve(new Store({ path })),
      removeEdit: (mapId, seq) => {
        const db = new DatabaseSync(path);
        try {
          db.prepare("DELETE FROM edits WHERE map_id = ? AND seq = ?").run(mapId, seq);
        } finally {
          db.close();
        }
        return Promise.resolve();
      },
      dispose: () => Deno.remove(dir, { recursive: true }),
      reader: (store) => new InlineHistoryReader(store as Store),
    };
  };
  await storeContract(t, fresh);
  await historyContract(t, fresh);
  await historyStepsContract(t, fresh);
});
