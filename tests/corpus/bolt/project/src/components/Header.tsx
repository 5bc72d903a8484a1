import { Mountain, Moon, Sun } from 'lucide-react';
import { useTheme } from 'next-themes';
import { useTranslation } from 'react-i18next';

export default function Header() {
  const { t, i18n } = useTranslation();
  const { theme, setTheme } = useTheme();
  const other = i18n.language.startsWith('fr') ? 'en' : 'fr';
  return (
    <header className="flex items-center justify-between border-b border-gray-200 px-6 py-4">
      <a href={import.meta.env.BASE_URL} className="flex items-center gap-2 font-semibold">
        <img src={`${import.meta.env.BASE_URL}logo.svg`} alt="" width={28} height={28} data-testid="logo" />
        <Mountain className="h-5 w-5 text-green-700" />
        <span data-testid="app-name">{import.meta.env.VITE_APP_NAME}</span>
      </a>
      <div className="flex items-center gap-3">
        <button
          type="button"
          data-testid="theme"
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
          className="rounded-md p-2 hover:bg-gray-100"
          aria-label="Toggle theme"
        >
          {theme === 'dark' ? <Sun className="h-4 w-4" /> : <Moon className="h-4 w-4" />}
        </button>
        <button
          type="button"
          data-testid="language"
          onClick={() => i18n.changeLanguage(other)}
          className="rounded-md bg-green-700 px-3 py-1.5 text-sm font-medium text-white"
        >
          {t('switch')}
        </button>
      </div>
    </header>
  );
}
