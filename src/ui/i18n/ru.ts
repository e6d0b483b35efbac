// Русский: the same keys as en.ts, checked by the compiler (Catalogue).
import type { Catalogue } from './index.js';

// Russian has three plural forms: 1 сообщение, 2 сообщения, 5 сообщений (and 21 сообщение).
function plural(n: number, one: string, few: string, many: string): string {
  const form = new Intl.PluralRules('ru').select(n);
  return `${n} ${form === 'one' ? one : form === 'few' ? few : many}`;
}

export const ru: Catalogue = {
  languageName: 'русский',
  you: 'вы',

  hello: (who: string) => `Консоль Parley: вы ${who}. /help — список команд; /quit — выход.`,
  startedHere: 'Клиент на этом профиле не работал: он работает в этой консоли до /quit.',
  prompt: (to: string | null) => (to === null ? '> ' : `${to}> `),
  writingTo: (who: string) => `Пишем: ${who}.`,
  bye: (messages: number, transfers: number) =>
    messages === 0 && transfers === 0
      ? 'Ничего не ждёт отправки. До свидания.'
      : `Ещё не отправлено: ${plural(messages, 'сообщение', 'сообщения', 'сообщений')} и ${plural(transfers, 'передача', 'передачи', 'передач')}; уйдут, когда клиент снова запустится. До свидания.`,
  byeUnknown: 'До свидания (не удалось узнать, что ждёт отправки).',
  clientGone: 'Клиент остановлен: консоль закрывается.',
  help: [
    'ТЕКСТ                отправить ТЕКСТ текущему контакту (//ТЕКСТ — текст, начинающийся с /)',
    '/to ID               писать контакту ID',
    '/send-file ПУТЬ      предложить файл текущему контакту',
    '/contacts            контакты, их присутствие и непрочитанные',
    '/history [N]         последние N сообщений с текущим контактом (по умолчанию 20)',
    '/requests accept|refuse ID   ответить на запрос знакомства',
    '/transfers accept|decline|cancel TID   ответить на передачу файла или остановить её',
    '/lang ru|en          язык консоли',
    '/quit                выход (а также Ctrl+C и Ctrl+D)',
  ],

  unknownCommand: (command: string) => `Неизвестная команда ${command}: список — /help.`,
  usage: (usage: string) => `Использование: ${usage}`,
  badId: (text: string) => `«${text}» — не id: id — целое число от 1 до 1099511627775.`,
  badTid: (text: string) => `«${text}» — не id передачи: от 1 до 64 печатных символов без пробелов.`,
  badLang: (text: string, langs: string) => `Языка «${text}» здесь нет: ${langs}.`,
  notContact: (id: number) => `${id} нет среди ваших контактов: parley contacts add ${id} --name ИМЯ`,
  noContact: 'Сначала выберите, кому писать: /to ID.',
  failed: (text: string) => `Не вышло: ${text}`,

  confirmMessage: (packets: number, who: string) => `Это сообщение займёт ${packets} пакетов вашего лимита с ${who}. Отправить? [y/N] `,
  confirmFile: (packets: number, who: string) => `Этот файл займёт ${packets} пакетов вашего лимита файлов с ${who}. Отправить? [y/N] `,
  notSent: 'Не отправлено.',

  noContacts: 'Контактов пока нет: parley contacts add ID --name ИМЯ',
  presence: { online: 'в сети', offline: 'не в сети', refused: 'отказал' },
  unread: (n: number) => `непрочитанных: ${n}`,
  noHistory: (who: string) => `С ${who} сообщений пока нет.`,
  status: { pending: 'ждёт', sent: 'отправлено', delivered: 'доставлено', read: 'прочитано', failed: 'не доставлено', received: '' },
  edited: 'изменено',

  requested: (id: number) => `${id} просит о знакомстве: /requests accept ${id} или /requests refuse ${id}`,
  accepted: (id: number) => `${id} принят: теперь может вам писать.`,
  refused: (id: number) => `${id}: отказано.`,
  serverOnline: 'Сервер вернулся: в сети.',
  serverOffline: 'Сервер пропал: не в сети, переподключаемся.',
  peerOnline: (who: string) => `${who} в сети.`,
  peerOffline: (who: string) => `${who} вышел из сети.`,
  peerRefused: (who: string) => `${who} отказывает вам.`,
  route: (who: string, route: string) => `${who}: соединение (${route}).`,
  routeChanged: (who: string, from: string, to: string) => `${who}: маршрут сменился, ${from} → ${to}.`,
  messageFailed: (who: string, id: string, reason: string) => `Ваше сообщение ${id} для ${who} не доставлено: ${reason}.`,
  messageEdited: (who: string, text: string) => `${who} изменил сообщение: ${text}`,
  fileOffered: (who: string, name: string, size: string, tid: string) => `${who} предлагает файл ${name} (${size}): /transfers accept ${tid} или /transfers decline ${tid}`,
  fileOffering: (who: string, name: string, size: string, tid: string) => `Файл ${name} (${size}) предложен ${who}: передача ${tid}.`,
  fileAccepted: (who: string, name: string, byMe: boolean) => (byMe ? `${name}: принят, идёт от ${who}.` : `${name}: ${who} принял, отправляем.`),
  fileDeclined: (who: string, name: string, reason: string) => `${name}: ${who} отказался${reason ? ` (${reason})` : ''}.`,
  fileCompleted: (name: string, where: string) => `${name}: готово${where ? `, в ${where}` : ''}.`,
  fileFailed: (name: string, reason: string) => `${name}: ошибка (${reason}).`,
  fileCancelled: (name: string, byMe: boolean) => `${name}: отменено${byMe ? '' : ' другой стороной'}.`,
  languageSet: 'Консоль теперь говорит по-русски.',
};
