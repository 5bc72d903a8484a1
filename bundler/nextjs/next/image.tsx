/* next/image: an <img> with the props Next.js renders, without the image optimiser. */
import { forwardRef, type CSSProperties, type ImgHTMLAttributes } from "react";

export interface StaticImageData {
  src: string;
  width?: number;
  height?: number;
  blurDataURL?: string;
}

export type ImageLoader = (props: { src: string; width: number; quality?: number }) => string;

export interface ImageProps extends Omit<ImgHTMLAttributes<HTMLImageElement>, "src" | "width" | "height" | "loading"> {
  src: string | StaticImageData | { default: StaticImageData };
  alt: string;
  width?: number | `${number}`;
  height?: number | `${number}`;
  fill?: boolean;
  loader?: ImageLoader;
  quality?: number | `${number}`;
  priority?: boolean;
  preload?: boolean;
  loading?: "eager" | "lazy";
  placeholder?: string;
  blurDataURL?: string;
  unoptimized?: boolean;
  overrideSrc?: string;
  onLoadingComplete?: (image: HTMLImageElement) => void;
  lazyBoundary?: string;
  lazyRoot?: string;
  layout?: string;
  objectFit?: CSSProperties["objectFit"];
  objectPosition?: CSSProperties["objectPosition"];
}

/* "/hero.png" is a file of /public/, served beside index.html: the version's folder, not the
 * bucket's root, so it is read from "./hero.png". */
function pageRelative(src: string): string {
  return src.startsWith("/") && !src.startsWith("//") ? "." + src : src;
}

export function getImageProps(props: ImageProps): { props: ImgHTMLAttributes<HTMLImageElement> } {
  const {
    src, width, height, fill, loader, quality, priority, preload, loading, placeholder: _placeholder,
    blurDataURL: _blur, unoptimized: _unoptimized, overrideSrc, onLoadingComplete, lazyBoundary: _lb,
    lazyRoot: _lr, layout: _layout, objectFit, objectPosition, style, sizes, ...rest
  } = props;
  const data = typeof src === "object" ? ("default" in src ? src.default : src) : { src };
  let url = overrideSrc ?? data.src;
  const widthValue = width ?? (fill ? undefined : data.width);
  const heightValue = height ?? (fill ? undefined : data.height);
  if (loader) url = loader({ src: url, width: Number(widthValue ?? 0), quality: quality === undefined ? undefined : Number(quality) });
  const fillStyle: CSSProperties = fill ? { position: "absolute", height: "100%", width: "100%", inset: 0 } : {};
  void onLoadingComplete;
  return {
    props: {
      ...rest,
      src: pageRelative(url),
      width: widthValue,
      height: heightValue,
      sizes: sizes ?? (fill ? "100vw" : undefined),
      loading: priority || preload ? "eager" : (loading ?? "lazy"),
      decoding: "async",
      style: { ...fillStyle, objectFit, objectPosition, color: "transparent", ...style },
    },
  };
}

const Image = forwardRef<HTMLImageElement, ImageProps>(function Image(props, ref) {
  const { props: img } = getImageProps(props);
  const { onLoadingComplete } = props;
  const onLoad = onLoadingComplete
    ? (event: React.SyntheticEvent<HTMLImageElement>) => { img.onLoad?.(event); onLoadingComplete(event.currentTarget); }
    : img.onLoad;
  return <img {...img} ref={ref} onLoad={onLoad} data-nimg={props.fill ? "fill" : "1"} />;
});

export default Image;
