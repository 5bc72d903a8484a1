import { Facebook, Github, Instagram, Linkedin, Twitter, Youtube } from 'lucide-react';
import { useTranslation } from 'react-i18next';

const links = [
  { label: 'GitHub', href: 'https://github.com/trailhead', Icon: Github },
  { label: 'Twitter', href: 'https://twitter.com/trailhead', Icon: Twitter },
  { label: 'LinkedIn', href: 'https://linkedin.com/company/trailhead', Icon: Linkedin },
  { label: 'YouTube', href: 'https://youtube.com/@trailhead', Icon: Youtube },
  { label: 'Facebook', href: 'https://facebook.com/trailhead', Icon: Facebook },
  { label: 'Instagram', href: 'https://instagram.com/trailhead', Icon: Instagram },
];

export default function Footer() {
  const { t } = useTranslation();
  return (
    <footer className="mt-12 border-t border-gray-200 px-6 py-6 text-sm text-gray-600">
      <p className="mb-3">{t('follow')}</p>
      <ul className="flex gap-4" data-testid="social">
        {links.map(({ label, href, Icon }) => (
          <li key={label}>
            <a href={href} aria-label={label} className="hover:text-green-700">
              <Icon className="h-5 w-5" />
            </a>
          </li>
        ))}
      </ul>
      <p className="mt-4 font-mono text-xs" data-testid="build-info">
        {import.meta.env.MODE} · {import.meta.env.PROD ? 'prod' : 'dev'} · dev={String(import.meta.env.DEV)} ·
        ssr={String(import.meta.env.SSR)} · {import.meta.env.VITE_RELEASE_CHANNEL}
      </p>
    </footer>
  );
}
