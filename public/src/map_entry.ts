/** Entry of `/assets/map.js` as served in production: the map page, without the test hook. */
import { runMapPage } from "./map_page.ts";

runMapPage();
