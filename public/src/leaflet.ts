/** Leaflet with Leaflet-Geoman loaded onto it (Geoman extends the global `L` that Leaflet sets). */
import L from "leaflet";
import "@geoman-io/leaflet-geoman-free";

export default L;
