/* geist/font/mono: Vercel's Geist Mono, a next/font family (see stage:next/font). */
import { googleFont } from "stage:next/font";

export const GeistMono = googleFont("Geist Mono", { variable: "--font-geist-mono" });
