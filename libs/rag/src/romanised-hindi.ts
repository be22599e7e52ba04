// Frequent romanised (Latin-script) Hindi words: the signal that tells
// "mujhe price batao" from English, which trigram detectors such as franc read
// as English. Spelling varies (dhanyavaad/dhanyawad), so common variants are listed.

/**
 * Words that are not English words (or are too rare in English to matter):
 * one of them is evidence of romanised Hindi on its own.
 */
export const ROMANISED_HINDI: ReadonlySet<string> = new Set(
  `aap aapka aapki aapke aapko aaj aaya aayega aayegi abhi acha accha achha achcha agar apna apni apne aur
  bahut bahot bohot baad bata batao bataiye bataye batayein bataen bataein bhai bhi bilkul chahiye chahie
  chaiye chahta chahti chahte chalo dena dedo dijiye dikhao diya diye dhanyavaad dhanyavad dhanyawad
  dhanyawaad ek galat gaya gayi gaye ghar hai hain hamara hamare hamari haan hona hoga hogi honge
  hoon hua hui hue humara humein hume idhar inka inki inke iska iski iske isko ismein isse jaana jaise
  jaldi jyada kab kabhi kahan kaha kaise kaisa kaisi kaam kal karna karo karke karein karunga karungi kare
  kar kaun kaunsa kaunse kaunsi keemat kimat ke ki ka kidhar kijiye kis kisi kitna kitni kitne kon koi
  kripya kripaya kuch kya kyaa kyun kyon kyu kyunki kyonki lekin leke liye liya magar matlab mein mera meri
  milega milegi milta milti mujhe mujhko mujhse naam namaskar namaskaar namaste nahi nahin nhi naya
  nayi paisa paise pata pehle phir pranam raha rahi rahe rha rhi rhe rupaye rupay sab sahi sakta sakti
  sakte samajh samjha samjhao shukriya sirf tak tera teri tha thi thay theek thik thoda thodi toh tum
  tumhara tumhari tumhe tumko udhar unka unki unke unko uska uski uske usko usmein usse vaala wala wali
  wale wahan woh voh yaar yahan yeh zyada`
    .split(/\s+/)
    .filter(Boolean),
);

/**
 * Romanised Hindi words that are also common English words or names ("main",
 * "to", "hi", "me", "ho", "do"): counted as Hindi only next to an unambiguous one,
 * so that "I have a car" or "the main point" stay English.
 */
export const AMBIGUOUS_ROMANISED_HINDI: ReadonlySet<string> = new Set(
  `ab bas de din do fir ha haa han ho hu hum hun hi is jab jo lo main mai mat me mere na par pe se so tab to us
  vo wo ya yah ye`
    .split(/\s+/)
    .filter(Boolean),
);
