import { useState } from 'react';
import { MapPin, Route } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import Header from '@/components/Header';
import Footer from '@/components/Footer';
import { formatKm, trails as localTrails, type Trail } from 'src/lib/trails';
import { supabase } from '@/lib/supabase';

const apiUrl = import.meta.env.VITE_API_URL as string;

function App() {
  const { t } = useTranslation();
  const [trails, setTrails] = useState<Trail[]>(localTrails);
  const [source, setSource] = useState('bundled');

  async function refresh() {
    const { data, error } = await supabase.from('trails').select('name, km');
    if (error || !data) {
      setSource('offline');
      return;
    }
    setTrails(data as Trail[]);
    setSource('live');
  }

  return (
    <div className="min-h-screen bg-white text-gray-900">
      <Header />
      <main className="mx-auto max-w-3xl px-6 py-10">
        <h1 className="text-3xl font-bold" data-testid="title">{t('hero.title')}</h1>
        <p className="mt-2 text-gray-600">{t('hero.subtitle', { city: 'Boulder' })}</p>
        <p className="mt-6 flex items-center gap-2 text-sm font-medium" data-testid="count">
          <Route className="h-4 w-4" /> {t('trails', { count: trails.length })}
        </p>
        <ul className="mt-4 grid gap-3 sm:grid-cols-3">
          {trails.map((trail) => (
            <li key={trail.name} className="rounded-lg border border-gray-200 p-4 shadow-sm">
              <p className="flex items-center gap-1 font-semibold">
                <MapPin className="h-4 w-4 text-green-700" /> {trail.name}
              </p>
              <p className="text-sm text-gray-500">{formatKm(trail.km)}</p>
            </li>
          ))}
        </ul>
        <p className="mt-8 text-xs text-gray-500" data-testid="api">
          API: {apiUrl}
        </p>
        <p className="text-xs text-gray-500">
          <span data-testid="source">{source}</span>{' '}
          <button type="button" onClick={refresh} className="underline">
            Refresh from Supabase
          </button>
        </p>
      </main>
      <Footer />
    </div>
  );
}

export default App;
