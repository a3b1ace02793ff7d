// A local list of common emoji (no external assets), each with English and Russian search words.
// The picker searches both languages whatever the UI language is: people type the word that comes
// to mind, and a Russian speaker may well type "ok" or "lol".

import { foldText } from '../people';

export interface EmojiEntry {
  emoji: string;
  /** English words, separated by spaces. */
  en: string;
  /** Russian words, separated by spaces (written with ё where it belongs; search folds it to е). */
  ru: string;
}

export const EMOJI: readonly EmojiEntry[] = [
  { emoji: '👍', en: 'thumbs up yes +1 like', ru: 'палец вверх лайк да класс нравится одобряю хорошо' },
  { emoji: '👎', en: 'thumbs down no -1', ru: 'палец вниз дизлайк нет плохо не нравится' },
  { emoji: '😀', en: 'grin smile happy', ru: 'улыбка улыбаюсь радость счастье весело' },
  { emoji: '😂', en: 'joy laugh tears lol', ru: 'смех смеюсь смешно хаха ржу слёзы радости лол' },
  { emoji: '🤣', en: 'rofl rolling laugh', ru: 'хохот хохочу катаюсь смех смеюсь ржу' },
  { emoji: '😊', en: 'blush smile', ru: 'улыбка румянец смущение приятно' },
  { emoji: '🙂', en: 'slight smile', ru: 'лёгкая улыбка' },
  { emoji: '😉', en: 'wink', ru: 'подмигиваю подмигивание' },
  { emoji: '😍', en: 'heart eyes love', ru: 'влюблён влюблена глаза-сердечки любовь обожаю' },
  { emoji: '😘', en: 'kiss', ru: 'поцелуй целую' },
  { emoji: '😎', en: 'cool sunglasses', ru: 'круто крутой солнечные очки' },
  { emoji: '🤔', en: 'thinking hmm', ru: 'думаю задумался размышляю хм' },
  { emoji: '😐', en: 'neutral', ru: 'нейтрально безразлично равнодушие' },
  { emoji: '🙄', en: 'eye roll', ru: 'закатываю глаза' },
  { emoji: '😅', en: 'sweat smile', ru: 'нервная улыбка пот фух' },
  { emoji: '😬', en: 'grimace', ru: 'гримаса неловко' },
  { emoji: '😢', en: 'cry sad', ru: 'плачу слеза грусть грустно печаль' },
  { emoji: '😭', en: 'sob cry', ru: 'рыдаю плачу слёзы рыдание' },
  { emoji: '😡', en: 'angry rage', ru: 'злюсь злость гнев ярость' },
  { emoji: '😱', en: 'scream shock', ru: 'крик шок ужас испуг' },
  { emoji: '😴', en: 'sleep tired', ru: 'сон сплю устал усталость' },
  { emoji: '🤯', en: 'mind blown', ru: 'взрыв мозга шок потрясение' },
  { emoji: '🥳', en: 'party', ru: 'вечеринка праздник праздную' },
  { emoji: '🤝', en: 'handshake deal', ru: 'рукопожатие договорились сделка' },
  { emoji: '🙏', en: 'pray thanks please', ru: 'спасибо благодарю пожалуйста прошу молюсь' },
  { emoji: '👏', en: 'clap applause', ru: 'аплодисменты хлопаю браво' },
  { emoji: '🙌', en: 'raised hands hooray', ru: 'ура поднятые руки' },
  { emoji: '👋', en: 'wave hello bye', ru: 'привет пока машу здравствуйте' },
  { emoji: '💪', en: 'muscle strong', ru: 'сила сильный мышцы бицепс' },
  { emoji: '👀', en: 'eyes look', ru: 'глаза смотрю гляжу' },
  { emoji: '✅', en: 'check done yes', ru: 'галочка готово сделано выполнено да' },
  { emoji: '❌', en: 'cross no wrong', ru: 'крестик нет неверно ошибка отмена' },
  { emoji: '⚠️', en: 'warning', ru: 'внимание предупреждение осторожно' },
  { emoji: '❓', en: 'question', ru: 'вопрос' },
  { emoji: '❗', en: 'exclamation', ru: 'восклицательный знак важно' },
  { emoji: '❤️', en: 'heart love red', ru: 'сердце любовь люблю красное' },
  { emoji: '💔', en: 'broken heart', ru: 'разбитое сердце' },
  { emoji: '🔥', en: 'fire hot lit', ru: 'огонь огонёк пожар горячо жара' },
  { emoji: '✨', en: 'sparkles', ru: 'блёстки искры волшебство' },
  { emoji: '⭐', en: 'star', ru: 'звезда звёздочка' },
  { emoji: '🎉', en: 'tada party celebrate', ru: 'хлопушка праздник поздравляю ура' },
  { emoji: '🎂', en: 'cake birthday', ru: 'торт день рождения' },
  { emoji: '🚀', en: 'rocket launch ship', ru: 'ракета запуск релиз' },
  { emoji: '💡', en: 'idea bulb', ru: 'идея лампочка' },
  { emoji: '🐛', en: 'bug', ru: 'баг жук ошибка' },
  { emoji: '🔧', en: 'wrench fix', ru: 'гаечный ключ починить исправить' },
  { emoji: '📌', en: 'pin', ru: 'булавка закрепить кнопка' },
  { emoji: '📎', en: 'paperclip attach', ru: 'скрепка вложение прикрепить' },
  { emoji: '📅', en: 'calendar date', ru: 'календарь дата встреча' },
  { emoji: '⏰', en: 'alarm clock time', ru: 'будильник часы время' },
  { emoji: '☕', en: 'coffee', ru: 'кофе чай перерыв' },
  { emoji: '🍕', en: 'pizza', ru: 'пицца' },
  { emoji: '🍺', en: 'beer', ru: 'пиво' },
  { emoji: '💯', en: 'hundred perfect', ru: 'сто идеально' },
  { emoji: '💬', en: 'speech chat', ru: 'реплика чат разговор сообщение' },
  { emoji: '📣', en: 'megaphone announce', ru: 'мегафон объявление' },
  { emoji: '🔒', en: 'lock private', ru: 'замок закрыто приватный' },
  { emoji: '🏠', en: 'home house', ru: 'дом домой' },
  { emoji: '🌍', en: 'earth world', ru: 'земля мир планета' },
  { emoji: '☀️', en: 'sun', ru: 'солнце солнечно' },
  { emoji: '🌧️', en: 'rain', ru: 'дождь' },
  { emoji: '❄️', en: 'snow', ru: 'снег снежинка холодно' },
  { emoji: '🐶', en: 'dog', ru: 'собака пёс щенок' },
  { emoji: '🐱', en: 'cat', ru: 'кошка кот котик' },
  { emoji: '🤷', en: 'shrug', ru: 'пожимаю плечами не знаю' },
  { emoji: '🤦', en: 'facepalm', ru: 'фейспалм рукалицо' },
  { emoji: '👌', en: 'ok', ru: 'окей ок хорошо' },
  { emoji: '✌️', en: 'peace victory', ru: 'мир победа' },
  { emoji: '🤞', en: 'fingers crossed luck', ru: 'скрещённые пальцы удача' },
  { emoji: '👉', en: 'point right', ru: 'указываю вправо' },
  { emoji: '➕', en: 'plus add', ru: 'плюс добавить' },
  { emoji: '🆗', en: 'ok button', ru: 'ок окей' },
  { emoji: '🚗', en: 'car drive way commute', ru: 'машина автомобиль еду дорога' },
  { emoji: '🤒', en: 'sick ill thermometer', ru: 'болею болезнь градусник температура' },
  { emoji: '🌴', en: 'palm leave vacation holiday', ru: 'пальма отпуск каникулы' },
  { emoji: '🍽️', en: 'lunch dinner food', ru: 'обед ужин еда' },
  { emoji: '🎧', en: 'headphones focus music', ru: 'наушники музыка сосредоточен' },
  { emoji: '🏥', en: 'hospital doctor', ru: 'больница врач' },
  { emoji: '✈️', en: 'plane travel flight', ru: 'самолёт полёт путешествие командировка' },
  { emoji: '🛠️', en: 'tools repair work', ru: 'инструменты ремонт работа' },
  { emoji: '📞', en: 'phone call', ru: 'телефон звонок трубка' },
  { emoji: '📱', en: 'mobile phone smartphone', ru: 'телефон мобильный смартфон' },
  { emoji: '🚩', en: 'flag red', ru: 'флаг флажок' },
  { emoji: '🏁', en: 'chequered flag finish', ru: 'клетчатый флаг финиш' },
];

/** Emoji offered first in the reaction picker. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '👀', '✅'];

/** Words split on spaces; a hyphenated word is also its parts ("глаза-сердечки" is found by "сердечки"). */
function words(text: string): string[] {
  return foldText(text)
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((w) => (/\p{L}-\p{L}/u.test(w) ? [w, ...w.split('-').filter(Boolean)] : [w]));
}

const INDEX = EMOJI.map((e) => ({ emoji: e.emoji, words: [...words(e.en), ...words(e.ru)] }));

/**
 * The emoji whose English or Russian words match the query: every word of the query must start
 * some word of the emoji ("палец вверх" is 👍, not 👎). Emoji with more words matched exactly come
 * first, the others keep the list's order. An empty query gives the whole list; an emoji finds itself.
 */
export function searchEmoji(query: string): string[] {
  const trimmed = query.trim();
  const wanted = foldText(trimmed).split(/\s+/).filter(Boolean);
  if (!wanted.length) return EMOJI.map((e) => e.emoji);
  const found: { emoji: string; exact: number; at: number }[] = [];
  INDEX.forEach((entry, at) => {
    if (entry.emoji === trimmed) {
      found.push({ emoji: entry.emoji, exact: Infinity, at });
      return;
    }
    let exact = 0;
    const matches = wanted.every((q) => {
      if (entry.words.includes(q)) exact++;
      return entry.words.some((w) => w.startsWith(q));
    });
    if (matches) found.push({ emoji: entry.emoji, exact, at });
  });
  return found.sort((a, b) => b.exact - a.exact || a.at - b.at).map((f) => f.emoji);
}
