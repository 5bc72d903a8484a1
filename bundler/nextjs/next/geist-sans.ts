/* geist/font/sans: Vercel's Geist package, a next/font family (see stage:next/font). */
import { googleFont } from "stage:next/font";

export const GeistSans = googleFont("Geist", { variable: "--font-geist-sans" });
