/**
 * Business dates (YYYY-MM-DD, Asia/Shanghai; API.md). Arithmetic on them is calendar arithmetic
 * on the date alone, done in UTC so that no local time zone or DST can shift a day.
 */
const shanghaiDate = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The business date of an instant. */
export const businessDateOf = (instant: Date) => shanghaiDate.format(instant);

const parse = (date: string) => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return { y, m, d };
};
const format = (t: number) => new Date(t).toISOString().slice(0, 10);

export function addDays(date: string, days: number): string {
  const { y, m, d } = parse(date);
  return format(Date.UTC(y, m - 1, d + days));
}

/** Months later, on the same day of the month or the month's last day when it is shorter (as PostgreSQL does). */
export function addMonths(date: string, months: number): string {
  const { y, m, d } = parse(date);
  const lastDay = new Date(Date.UTC(y, m - 1 + months + 1, 0)).getUTCDate();
  return format(Date.UTC(y, m - 1 + months, Math.min(d, lastDay)));
}
