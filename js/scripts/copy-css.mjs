// esbuild bundles the TypeScript; the panel's stylesheet ships beside it unchanged.
import { copyFileSync, mkdirSync } from "node:fs";
mkdirSync("../twilio_widget/static", { recursive: true });
copyFileSync("src/widget.css", "../twilio_widget/static/widget.css");
